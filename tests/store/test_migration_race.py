"""Issue 37 item 6: runs started together on a new store must all open it (no `table feeds already
exists`), and the schema must end up applied exactly once."""

import multiprocessing
import sqlite3
from typing import Any

import pytest

from summarizer.store import MIGRATIONS, Store

TRIALS = 6
PROCESSES_PER_TRIAL = 6
# Generous: a process that waits longer than this for the others is stuck, not slow.
JOIN_TIMEOUT_S = 60


def open_new_store(path: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        with Store(path) as store:
            results.put(("ok", store.schema_version))
    except Exception as error:  # noqa: BLE001 - the test reports whatever a process met
        results.put(("error", f"{type(error).__name__}: {error}"))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_processes_opening_a_new_store_together_all_succeed(tmp_path, trial):
    context = multiprocessing.get_context("fork")
    path = str(tmp_path / f"race-{trial}.db")
    start = context.Barrier(PROCESSES_PER_TRIAL)
    results = context.Queue()
    processes = [context.Process(target=open_new_store, args=(path, start, results))
                 for _ in range(PROCESSES_PER_TRIAL)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=JOIN_TIMEOUT_S) for _ in processes]
    for process in processes:
        process.join(timeout=JOIN_TIMEOUT_S)
    assert outcomes == [("ok", len(MIGRATIONS))] * PROCESSES_PER_TRIAL
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()
    assert {"feeds", "articles", "runs", "summaries"} <= tables


def test_migrating_twice_is_harmless(tmp_path):
    # A migration that was applied but whose version bump was lost must not fail when run again.
    path = tmp_path / "again.db"
    Store(path).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 0")
    connection.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
