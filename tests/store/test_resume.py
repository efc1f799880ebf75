import io
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from summarizer.articles import Article
from summarizer.ingest.feeds import load_source_articles
from summarizer.pipeline import WINDOW, RunSettings, summarize_articles
from summarizer.store import Store
from summarizer.store.resumable import Progress, format_report, run_with_store, summary_key
from tests.conftest import PROJECT_ROOT
from tests.fakes import fake_spec
from tests.store import slow_backend

TWO_BULLETS = RunSettings(n_bullets=2)
ARTICLE_COUNT = 200
# The pipeline hands the backend WINDOW articles at a time and the runner commits each summary as the
# window yields it; stalling after 150 articles lets the complete windows before it (2 x 64 = 128
# summaries with today's WINDOW) reach the store, and guarantees the kill lands mid-run.
STALL_AFTER = 150
COMMITTED_BEFORE_KILL = (STALL_AFTER // WINDOW) * WINDOW
# How long the summary count must stay unchanged before the run counts as stalled.
STALL_SETTLE_S = 1.0
KILL_WAIT_LIMIT_S = 60

SUBPROCESS_RUN = f"""
import sys
from summarizer.backends import registry
registry.BACKENDS[{slow_backend.BACKEND_ID!r}] = {slow_backend.REGISTRY_ENTRY!r}
from summarizer.pipeline import RunSettings
from summarizer.store.resumable import run_with_store
from summarizer.store import Store
from tests.store.slow_backend import fixture_articles, slow_spec

store = Store(sys.argv[1])
backend = registry.create_backend(slow_spec())
run_with_store(fixture_articles({ARTICLE_COUNT}), backend, store, RunSettings(n_bullets=2), quiet=True)
"""


def count_summaries(path) -> tuple[int, int]:
    connection = sqlite3.connect(path, timeout=10)
    try:
        return connection.execute("SELECT count(*), count(DISTINCT article_hash) FROM summaries").fetchone()
    finally:
        connection.close()


@pytest.fixture
def slow_backend_registered(monkeypatch):
    from summarizer.backends import registry

    monkeypatch.setitem(registry.BACKENDS, slow_backend.BACKEND_ID, slow_backend.REGISTRY_ENTRY)
    return registry


def test_sigkill_mid_run_then_rerun_completes_without_duplicates(tmp_path, slow_backend_registered):
    path = tmp_path / "resume.db"
    Store(path).close()  # create the schema first so the poller below can read it from the start
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), slow_backend.STALL_ENV: str(STALL_AFTER)}
    process = subprocess.Popen([sys.executable, "-c", SUBPROCESS_RUN, str(path)], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + KILL_WAIT_LIMIT_S
        while count_summaries(path)[0] < COMMITTED_BEFORE_KILL:
            if process.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {process.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail("no summaries were committed in time")
            time.sleep(0.05)
        # Summaries are committed batch by batch as they stream out; wait until the backend has stalled
        # (the count stops moving) so the kill lands at a known point.
        committed = count_summaries(path)[0]
        stable_since = time.monotonic()
        while time.monotonic() - stable_since < STALL_SETTLE_S:
            time.sleep(0.05)
            now = count_summaries(path)[0]
            if now != committed:
                committed, stable_since = now, time.monotonic()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert COMMITTED_BEFORE_KILL <= committed < STALL_AFTER
    assert count_summaries(path) == (committed, committed)

    backend = slow_backend_registered.create_backend(slow_backend.slow_spec())
    with Store(path) as store:
        result = run_with_store(slow_backend.fixture_articles(ARTICLE_COUNT), backend, store, TWO_BULLETS, quiet=True)
        runs = store.runs()
    assert len(backend.articles_seen) == ARTICLE_COUNT - committed
    assert result.summarized == ARTICLE_COUNT - committed and result.new_articles == 0
    assert count_summaries(path) == (ARTICLE_COUNT, ARTICLE_COUNT)
    assert [run["status"] for run in runs] == ["running", "finished"]  # the killed run never finished


def test_second_poll_is_conditional_and_summarizes_nothing(feed_server, fetcher, tmp_path,
                                                           fake_backend_registered):
    url = feed_server.url("/rss.xml")
    with Store(tmp_path / "feeds.db") as store:
        first_backend = fake_backend_registered.create_backend(fake_spec())
        first = run_with_store(load_source_articles(url, fetcher, store), first_backend, store, TWO_BULLETS,
                               quiet=True)
        assert (first.new_articles, first.summarized, first.failed) == (3, 3, 0)
        assert store.feed_state(url).etag

        second_backend = fake_backend_registered.create_backend(fake_spec())
        second = run_with_store(load_source_articles(url, fetcher, store), second_backend, store, TWO_BULLETS,
                                quiet=True)
        assert (second.ingested, second.new_articles, second.summarized) == (0, 0, 0)
        assert second_backend.calls == [] and not second_backend._loaded  # the model is not even loaded
        assert store.summary_count() == 3
    first_request, second_request = feed_server.requests_for("/rss.xml")
    assert "if-none-match" not in first_request.headers
    assert second_request.headers["if-none-match"] == store_etag(tmp_path / "feeds.db", url)
    assert second_request.headers["if-modified-since"]


def store_etag(path, url) -> str:
    with Store(path) as store:
        return store.feed_state(url).etag


def test_errors_are_stored_and_listed(tmp_path, fake_backend_registered):
    backend = fake_backend_registered.create_backend(fake_spec(fail_on=["b1"]))
    articles = [
        Article(id=f"b{i}", url=f"https://news.example/b{i}", title=f"B{i}", text=f"Fact {i} is stated here. More.")
        for i in range(3)
    ] + [Article(id="https://news.example/broken", url="https://news.example/broken", text="", error="HTTP 404")]
    with Store(tmp_path / "errors.db") as store:
        result = run_with_store(articles, backend, store, TWO_BULLETS, quiet=True)
        (manifest,) = store.runs()
        stored_errors = store.conn.execute("SELECT error FROM summaries WHERE error IS NOT NULL").fetchall()
    assert result.errors[0] == ("https://news.example/broken", "HTTP 404")
    assert result.errors[1][0] == "b1" and "fake failure on b1" in result.errors[1][1]
    assert (result.summarized, result.failed, result.succeeded) == (3, 1, 2)
    assert len(stored_errors) == 1
    assert manifest["counts"]["failed"] == 1 and len(manifest["errors"]) == 2
    assert manifest["versions"]["summarizer"] and "transformers" in manifest["versions"]
    assert manifest["params"]["n_bullets"] == 2 and manifest["timings"]["total_s"] >= 0
    assert manifest["timings"]["load_s"] >= 0  # this process loaded the backend itself
    report = format_report(result, "fake")
    assert "summarized 2/3" in report and "fake failure on b1" in report


def test_failing_input_does_not_stop_the_backlog(tmp_path, fake_backend_registered):
    def broken_source():
        yield Article(id="ok", url="https://news.example/ok",
                      text="A fine article about the harbor opened today. It has two sentences.")
        raise OSError("connection reset while reading the feed")

    backend = fake_backend_registered.create_backend(fake_spec())
    with Store(tmp_path / "s.db") as store:
        result = run_with_store(broken_source(), backend, store, TWO_BULLETS, quiet=True)
    assert result.summarized == 1
    assert result.errors == [("<ingest>", "OSError: connection reset while reading the feed")]


def test_backlog_can_be_left_alone(tmp_path, fake_backend_registered):
    old = Article(id="old", url="https://news.example/old",
                  text="The old story about the bridge is still pending. It waits.")
    new = Article(id="new", url="https://news.example/new",
                  text="The new story about the tram line arrived now. It is fresh.")
    with Store(tmp_path / "s.db") as store:
        store.add_articles([old])
        backend = fake_backend_registered.create_backend(fake_spec())
        result = run_with_store([new], backend, store, TWO_BULLETS, include_backlog=False, quiet=True)
        assert backend.calls == [["new"]] and result.summarized == 1
        key = summary_key(backend.spec, TWO_BULLETS)
        assert [a.id for a in store.pending_articles(key)] == ["old"]


def test_progress_reports_rate_and_eta():
    stream = io.StringIO()
    progress = Progress(4, stream=stream, log_interval=0.0)
    for _ in range(4):
        progress.update()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("summarizing [") and "4/4" in lines[-1]
    assert "articles/s" in lines[-1] and "ETA" in lines[-1]
    assert len(lines) == 4  # one per update, no duplicate final line


@pytest.mark.parametrize("quiet", [True, False])
def test_progress_goes_to_the_given_stream_unless_quiet(tmp_path, fake_backend_registered, quiet):
    stream = io.StringIO()
    backend = fake_backend_registered.create_backend(fake_spec())
    articles = [Article(id="q", url="https://news.example/q", text="The run prints one progress line here. Only one.")]
    with Store(tmp_path / "s.db") as store:
        run_with_store(articles, backend, store, TWO_BULLETS, quiet=quiet, progress_stream=stream)
    output = stream.getvalue()
    assert output == "" if quiet else ("1/1" in output and "articles/s" in output)


def test_another_summarizer_gets_only_pending_articles_and_no_local_load(tmp_path, fake_backend_registered):
    # The Ray engine's path: the actors summarize, this process never loads the model.
    done = Article(id="done", url="https://news.example/done", text="The done story about the mayor is here. Yes.")
    fresh = Article(id="fresh", url="https://news.example/fresh", text="The fresh story about the port is here. Yes.")
    backend = fake_backend_registered.create_backend(fake_spec())
    handed: list[list[str]] = []

    class ElsewhereSummarizer:
        """A Summarizer whose model lives elsewhere, as RaySummarizer's actors build their own."""

        spec = backend.spec

        def load(self):
            return None

        def summarize(self, pending, settings):
            pending = list(pending)  # the runner hands an iterator that claims work as it is read
            handed.append([article.id for article in pending])
            worker = fake_backend_registered.create_backend(self.spec)
            return summarize_articles(pending, worker, settings)

    with Store(tmp_path / "s.db") as store:
        run_with_store([done], backend, store, TWO_BULLETS, quiet=True)
        loads_before = backend.calls
        result = run_with_store([done, fresh], ElsewhereSummarizer(), store, TWO_BULLETS, quiet=True)
        again = run_with_store([done, fresh], ElsewhereSummarizer(), store, TWO_BULLETS, quiet=True)
        assert store.pending_articles(summary_key(backend.spec, TWO_BULLETS)) == []
    assert handed == [["fresh"]]  # the second rerun had nothing pending: summarize not called
    assert backend.calls == loads_before
    assert (result.summarized, again.summarized) == (1, 0)
    assert "load_s" not in result.timings  # the given function loaded its own model, not this process
