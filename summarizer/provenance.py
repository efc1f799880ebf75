"""What produced a result: installed package versions and a fingerprint of our own source code.

`summarizer compare` keys its prediction cache on these, so a cached run is reused only when the code
and libraries that would produce it again are the same. The package version alone is not enough: it
stays 0.1.0 across every commit of a checkout, and a fix to a backend or to bullet trimming must not
leave last week's predictions in this week's leaderboard.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

# Packages whose versions change what a run produces (recorded in run manifests, part of cache keys).
OUTPUT_PACKAGES = (
    "transformers", "torch", "xllamacpp", "sentence-transformers", "feedparser", "trafilatura",
)

PACKAGE_DIR = Path(__file__).resolve().parent


def installed_versions(names: tuple[str, ...], missing: str | None = None) -> dict[str, str | None]:
    """Each package's installed version, or ``missing`` where it is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = missing
    return versions


def fingerprint_files(root: Path, pattern: str = "*.py") -> str:
    """SHA-256 over the files under ``root`` matching ``pattern``: their relative paths and contents."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob(pattern)):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def source_fingerprint() -> str:
    """Fingerprint of the summarizer package's Python source as it is imported now (first 16 hex digits)."""
    return fingerprint_files(PACKAGE_DIR)[:16]
