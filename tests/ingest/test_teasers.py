"""Issue 37.3: a teaser whose page could not be fetched is marked, replaced by the full text on a
later successful poll and summarized again; a teaser too short to summarize is an error record."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from summarizer.ingest.feeds import load_feed_articles
from summarizer.ingest.http import Fetcher
from summarizer.pipeline import RunSettings
from summarizer.store import Store
from summarizer.store.resumable import run_with_store

pytestmark = pytest.mark.timeout(60)

TEASER = ("The harbour authority has approved a new ferry line that will link the old town with the "
          "northern islands from next spring, officials said on Monday…")
PAGE = ("<html><head><title>New ferry line approved</title></head><body><article><h1>New ferry line approved</h1>"
        + "".join(f"<p>Paragraph {n} of the full story: the ferry will carry {n * 100} passengers a day "
                  f"and the harbour will hire {n} new crew members for it.</p>" for n in range(1, 9))
        + "</article></body></html>").encode()


def feed(base: str, description: str) -> bytes:
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title>
      <item><title>New ferry line approved</title><link>{base}/ferry.html</link>
        <guid>{base}/ferry.html</guid><description>{description}</description></item>
    </channel></rss>""".encode()


def serve_feed(local_server, description: str) -> None:
    body = feed(local_server.base, description)
    local_server.routes["/feed.xml"] = lambda request: request.send_body(
        200, body, "application/rss+xml", {"ETag": '"v1"', "Last-Modified": "Wed, 05 Mar 2025 10:00:00 GMT"})


def make_page_route(local_server, page_works: dict):
    def route(request) -> None:
        if page_works["now"]:
            request.send_body(200, PAGE)
        else:
            request.server.owner.stop.wait(3.0)  # longer than the read timeout: the fetch times out
    local_server.routes["/ferry.html"] = route


def quick_fetcher() -> Fetcher:
    return Fetcher(read_timeout=0.4, total_timeout=2.0, retries=0, trust_env=False, allow_private_hosts=True)


def stored_article(path) -> sqlite3.Row:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM articles").fetchone()
    finally:
        connection.close()


def test_teaser_after_a_page_timeout_is_marked_teaser_only(local_server):
    serve_feed(local_server, TEASER)
    make_page_route(local_server, {"now": False})
    with quick_fetcher() as fetcher:
        (article,) = load_feed_articles(local_server.url("/feed.xml"), fetcher)
    assert article.error is None and article.text == TEASER
    assert article.metadata["teaser_only"] is True
    assert any("full text not fetched" in warning and "timed out" in warning
               for warning in article.metadata["warnings"])


def test_teaser_is_replaced_and_resummarized_when_a_later_poll_gets_the_page(local_server, tmp_path,
                                                                              fake_backend_registered):
    from summarizer.backends.registry import create_backend
    from tests.fakes import fake_spec

    serve_feed(local_server, TEASER)
    page_works = {"now": False}
    make_page_route(local_server, page_works)
    backend = create_backend(fake_spec())
    path = tmp_path / "news.db"
    with Store(path) as store, quick_fetcher() as fetcher:
        first = run_with_store(load_feed_articles(local_server.url("/feed.xml"), fetcher, store), backend,
                               store, RunSettings(n_bullets=2), quiet=True)
        assert (first.new_articles, first.summarized) == (1, 1)
        assert stored_article(path)["teaser_only"] == 1
        page_works["now"] = True
        second = run_with_store(load_feed_articles(local_server.url("/feed.xml"), fetcher, store), backend,
                                store, RunSettings(n_bullets=2), quiet=True)
        assert (second.new_articles, second.summarized) == (1, 1)
        row = stored_article(path)
        assert row["teaser_only"] == 0 and "Paragraph 8 of the full story" in row["text"]
        assert store.article_count() == 1
        (summary,) = store.summaries_since(datetime(2000, 1, 1))
        assert "Paragraph" in " ".join(summary.bullets)
        # Complete now: a third poll neither replaces nor summarizes anything.
        third = run_with_store(load_feed_articles(local_server.url("/feed.xml"), fetcher, store), backend,
                               store, RunSettings(n_bullets=2), quiet=True)
        assert (third.new_articles, third.summarized) == (0, 0)
    assert local_server.hits["/feed.xml"] >= 2


def test_teaser_too_short_to_summarize_is_recorded_as_such(local_server, tmp_path):
    serve_feed(local_server, "Ferry line approved. Read more")
    make_page_route(local_server, {"now": False})
    with Store(tmp_path / "news.db") as store, quick_fetcher() as fetcher:
        (article,) = load_feed_articles(local_server.url("/feed.xml"), fetcher, store)
        assert article.error and "too short to summarize" in article.error
        assert "timed out" in article.error
        store.add_article(article)
        ((article_id, error),) = store.article_errors()
    assert article_id == article.id and "too short to summarize" in error
