"""Issue 37 item 7: two `summarizer run --store` processes on one store split the pending work
between them; every article is summarized exactly once."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import yaml

from tests.conftest import PROJECT_ROOT
from tests.store import slow_backend

ARTICLE_COUNT = 200
# Slow enough that each run is still working when the other starts claiming; the whole test stays
# within a few seconds.
DELAY_S = 0.02
START_LIMIT_S = 60
RUN_LIMIT_S = 120

# Each process registers the slow test backend, reports that it is ready, waits for the go file (so
# both runs start together), then runs the real CLI.
RUN_WHEN_TOLD = f"""
import pathlib, sys, time
from summarizer.backends import registry
registry.BACKENDS[{slow_backend.BACKEND_ID!r}] = {slow_backend.REGISTRY_ENTRY!r}
from summarizer.cli.main import main

ready, go, *argv = sys.argv[1:]
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():
    time.sleep(0.01)
sys.exit(main(argv))
"""


def test_two_runs_on_one_store_summarize_each_article_once(tmp_path):
    articles = tmp_path / "articles.jsonl"
    with articles.open("w", encoding="utf-8") as handle:
        for article in slow_backend.fixture_articles(ARTICLE_COUNT):
            handle.write(json.dumps({"id": article.id, "url": article.url, "title": article.title,
                                     "text": article.text}) + "\n")
    spec = tmp_path / "slow.yaml"
    spec.write_text(yaml.safe_dump({"name": "slow-test", "backend": slow_backend.BACKEND_ID,
                                    "options": {"delay_s": DELAY_S}}), encoding="utf-8")
    store, log, go = tmp_path / "news.db", tmp_path / "summarized.log", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), slow_backend.LOG_ENV: str(log)}
    processes = []
    for name in ("first", "second"):
        command = [sys.executable, "-c", RUN_WHEN_TOLD, str(tmp_path / f"{name}.ready"), str(go),
                   "run", str(articles), "--model", str(spec), "--bullets", "2", "--store", str(store), "--quiet"]
        processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    try:
        deadline = time.monotonic() + START_LIMIT_S
        while not all((tmp_path / f"{name}.ready").exists() for name in ("first", "second")):
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.05)
        go.touch()
        outcomes = [process.communicate(timeout=RUN_LIMIT_S) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, stderr) in zip(processes, outcomes):
        assert process.returncode == 0, stderr

    summarized = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    per_article = Counter(article_id for _, article_id in summarized)
    assert len(per_article) == ARTICLE_COUNT
    assert max(per_article.values()) == 1, f"{sum(per_article.values()) - ARTICLE_COUNT} articles twice"
    per_process = Counter(pid for pid, _ in summarized)
    assert len(per_process) == 2, f"one run did all the work: {per_process}"  # the runs split it

    connection = sqlite3.connect(store)
    try:
        count, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT article_hash) FROM summaries WHERE error IS NULL").fetchone()
    finally:
        connection.close()
    assert count == distinct == ARTICLE_COUNT
