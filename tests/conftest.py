"""Shared fixtures: where the shared evaluation data lives, the seed article, the fake backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.paths import shared_data_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = PROJECT_ROOT / "seeds" / "000_42f52d1283be1841.txt"


def shared_data_file(name: str) -> Path:
    path = shared_data_dir() / name
    if not path.is_file():
        pytest.skip(f"shared data file {path} not found (set SUMMARIZER_DATA_DIR to its folder)")
    return path


@pytest.fixture
def summeval_path() -> Path:
    return shared_data_file("summeval_cnndm100.jsonl")


@pytest.fixture
def parity_path() -> Path:
    return shared_data_file("rouge155_parity_dev.jsonl")


@pytest.fixture
def seed_file() -> Path:
    return SEED_FILE


@pytest.fixture
def fake_backend_registered(monkeypatch):
    """Make backend id "fake" resolve to tests.fakes.FakeBackend for the duration of a test."""
    from summarizer.backends import registry

    monkeypatch.setitem(registry.BACKENDS, "fake", "tests.fakes:FakeBackend")
    return registry
