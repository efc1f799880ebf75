"""What the eval scripts share: the command line that made a report, and the report written out."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def command(script: str, arguments: str, out: Path | None, python: str = ".venv/bin/python") -> str:
    """The command as the report quotes it, in backticks."""
    parts = [f"{python} eval/scripts/{script}", arguments, f"--out {out}" if out else ""]
    return "`" + " ".join(part for part in parts if part) + "`"


def machine_line() -> str:
    """The CPU a report ran on, as the reports name it."""
    from summarizer.bench.machine import describe_machine

    machine = describe_machine()
    return f"{machine.cpu_model}, {machine.physical_cores} physical cores / {machine.logical_cpus} logical CPUs"


def save(lines: list[str], out: Path | None) -> None:
    if out:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")


COMPARISON_DEFAULTS = {"articles": 16, "tokens": 128, "slots": 8, "rounds": 2}


def comparison_flags(args: argparse.Namespace, names: tuple[str, ...] = tuple(COMPARISON_DEFAULTS)) -> str:
    """The shared options (of ``names``) a run changed from their defaults, so the quoted command
    reproduces it."""
    return " ".join(f"--{name} {getattr(args, name)}" for name in names
                    if getattr(args, name) != COMPARISON_DEFAULTS[name])


def gguf_comparison_arguments(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> tuple[argparse.Namespace, list[str]]:
    """The command line of a llama.cpp A/B script (articles, tokens, slots, rounds, out, and what ``extra``
    adds) and the texts of the dev articles it runs on."""
    from summarizer.bench.data import dev_set_path, load_dev_records

    parser = argparse.ArgumentParser(description=description)
    for name, default in COMPARISON_DEFAULTS.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--out", type=Path)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    return args, [record.article for record in load_dev_records(dev_set_path())[: args.articles]]
