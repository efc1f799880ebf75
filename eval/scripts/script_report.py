"""What the eval scripts share: the command line that made a report, and the report written out."""

from __future__ import annotations

from pathlib import Path


def command(script: str, arguments: str, out: Path | None, python: str = ".venv/bin/python") -> str:
    """The command as the report quotes it, in backticks."""
    return f"`{python} eval/scripts/{script} {arguments}" + (f" --out {out}`" if out else "`")


def save(lines: list[str], out: Path | None) -> None:
    if out:
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
