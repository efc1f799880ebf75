"""Where the project's files and the shared evaluation data live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """$SUMMARIZER_DATA_DIR, else ../shared/data beside the project (where CI lays it).

    The shared files are evaluation inputs owned elsewhere: they are read in place, never copied.
    """
    override = os.environ.get("SUMMARIZER_DATA_DIR")
    return Path(override) if override else PROJECT_ROOT.parent / "shared" / "data"


def cache_dir(name: str) -> Path:
    """$XDG_CACHE_HOME/summarizer/NAME (default ~/.cache): files we can rebuild, such as converted weights."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "summarizer" / name
