"""Headless Chromium for tests that look at pages the way a reader would (Debian's chromium)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM_TIMEOUT_S = 60
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which this
# closed network refuses; each run gets a fresh profile.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium_or_skip() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not on PATH (the CI script installs Debian's chromium)")
    return chromium


def _command(page: Path | str, profile: Path, *extra: str) -> list[str]:
    """``page`` is a file, or an http://127.0.0.1 URL of a server the test started."""
    target = page.as_uri() if isinstance(page, Path) else page
    return [chromium_or_skip(), *FLAGS, f"--user-data-dir={profile}", *extra, target]


def screenshot(page: Path | str, png: Path, profile: Path, size: str = "1200,900") -> bytes:
    subprocess.run(_command(page, profile, f"--screenshot={png}", f"--window-size={size}"),
                   check=True, capture_output=True, timeout=CHROMIUM_TIMEOUT_S)
    return png.read_bytes()


def dump_dom(page: Path | str, profile: Path) -> str:
    """The DOM after the page's load handlers ran."""
    return subprocess.run(_command(page, profile, "--dump-dom", "--virtual-time-budget=5000"), check=True,
                          capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S).stdout
