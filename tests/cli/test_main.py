"""The console script's shape: light to import, the user-facing commands only, defaults shown in help."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from summarizer.cli import DefaultsHelpFormatter
from summarizer.cli.main import COMMAND_GROUPS, build_parser, give_defaults_a_help_line
from summarizer.paths import PROJECT_ROOT

# What the CLI must not import before a handler runs (issue 36): model frameworks and benchmark code.
# "ray" also matches numpy's multiarray modules: numpy is heavy too, so that is intended.
HEAVY_IMPORT = re.compile(r"torch|transformers|ray|bench")


def imported_modules(module: str) -> list[str]:
    """Every module a fresh interpreter imports for ``import module``, from ``python -X importtime``."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                               capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    return [line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines()
            if line.startswith("import time:") and "|" in line]


def test_importing_the_cli_pulls_in_no_model_framework_or_benchmark():
    heavy = [name for name in imported_modules("summarizer.cli.main") if HEAVY_IMPORT.search(name)]
    assert heavy == []


@pytest.mark.parametrize("module", ["summarizer.cli.models", "summarizer.cli.demo"])
def test_light_command_modules_import_no_library_code(module):
    imported = imported_modules(module)
    assert module in imported
    assert [name for name in imported if HEAVY_IMPORT.search(name)] == []
    # Not even the library: specs (pydantic, yaml), ingest (httpx) and backends wait for the handler.
    assert [name for name in imported if name.startswith(("pydantic", "yaml", "httpx", "summarizer.backends"))] == []


def test_only_user_facing_commands_are_registered():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(subparsers.choices)
    assert {"run", "models", "demo", "digest"} <= commands
    assert not commands & {"bench", "build-llama-server"}
    assert len(COMMAND_GROUPS) == len({group.__name__ for group in COMMAND_GROUPS})


def test_every_command_help_renders(capsys):
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in subparsers.choices:
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([name, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: summarizer {name}" in capsys.readouterr().out


def test_help_shows_real_defaults_but_not_none_or_flags():
    parser = argparse.ArgumentParser(prog="x", formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds")
    parser.add_argument("--out", help="report file (default: standard output)")
    parser.add_argument("--limit", type=int, help="stop after this many")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    text = " ".join(parser.format_help().split())
    assert "timed rounds (default: 3)" in text
    assert "report file (default: standard output)" in text and "(default: standard output) (default" not in text
    assert "stop after this many (default" not in text and "no progress bar (default" not in text


def test_demo_help_shows_its_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"seed file or directory (default: {PROJECT_ROOT / 'seeds'})" in text
    assert "--model MODEL model to use (default: the model in configs/default.yaml)" in text


def test_options_without_help_text_still_show_their_default():
    parser = argparse.ArgumentParser(prog="x", formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--address")
    give_defaults_a_help_line(parser)
    text = " ".join(parser.format_help().split())
    assert "--engine {local,ray} (default: local)" in text
    assert "--address ADDRESS (default" not in text
