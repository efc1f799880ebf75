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


def content_sha256(path: Path, pattern: str = "*") -> str:
    """SHA-256 of a file's contents, or of the files under a directory matching ``pattern`` (their
    relative paths included, in sorted order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob(pattern) if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@cache
def source_fingerprint() -> str:
    """Fingerprint of the summarizer package's Python source as it is imported now (first 16 hex digits).

    Only ``*.py`` files count, so the bytecode in ``__pycache__`` does not.
    """
    return content_sha256(PACKAGE_DIR, "*.py")[:16]
