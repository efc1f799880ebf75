"""Issue 38.2: the pages of one poll are fetched concurrently, bounded overall and per host, and the
articles come out in feed order, identical to one link at a time."""

from __future__ import annotations

import threading

import pytest

from summarizer.ingest.feeds import load_feed_articles
from summarizer.ingest.http import Fetcher, FetchError

pytestmark = pytest.mark.timeout(60)

ITEMS = 12


class InFlight:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc_info: object) -> None:
        with self.lock:
            self.now -= 1


def serve_teaser_feed(server, in_flight: InFlight) -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>{server.base}/story/{n}</link>"
        f"<description>Teaser {n} of a story about the harbour, the ferries and the new timetable that "
        f"the council approved for the coming summer season…</description></item>" for n in range(ITEMS))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()
    server.routes["/feed.xml"] = lambda request: request.send_body(200, feed, "application/rss+xml")

    def page(n: int):
        body = (f"<html><body><article><h1>Story {n}</h1>"
                + "".join(f"<p>Full text of story {n}, paragraph {m}: the harbour ferries run every {m + 1} "
                          f"hours in summer.</p>" for m in range(12))
                + "</article></body></html>").encode()

        def route(request) -> None:
            with in_flight:
                # Later stories answer sooner, so completion order differs from feed order.
                request.server.owner.stop.wait(0.03 * (ITEMS - n))
            request.send_body(200, body)
        return route

    for n in range(ITEMS):
        server.routes[f"/story/{n}"] = page(n)


def ingest(server, **limits) -> list:
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True, **limits) as fetcher:
        return list(load_feed_articles(server.url("/feed.xml"), fetcher))


def test_concurrent_pages_same_articles_in_feed_order(local_server):
    in_flight = InFlight()
    serve_teaser_feed(local_server, in_flight)
    one_at_a_time = ingest(local_server, max_concurrent=1)
    assert in_flight.peak == 1
    concurrent = ingest(local_server, max_concurrent=8, max_per_host=4)
    assert 1 < in_flight.peak <= 4
    assert [a.to_dict() for a in concurrent] == [a.to_dict() for a in one_at_a_time]
    assert [a.title for a in concurrent] == [f"Story {n}" for n in range(ITEMS)]
    assert all(f"Full text of story {n}" in a.text for n, a in enumerate(concurrent))


def test_concurrent_pages_respect_the_per_host_limit(local_server):
    in_flight = InFlight()
    serve_teaser_feed(local_server, in_flight)
    ingest(local_server, max_concurrent=8, max_per_host=2)
    assert in_flight.peak == 2


def test_fetch_all_keeps_order_and_returns_errors_in_place(local_server):
    local_server.routes["/ok"] = lambda request: request.send_body(200, b"<p>ok</p>")
    urls = [local_server.url(path) for path in ("/ok", "/missing", "/ok")]
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        first, missing, last = fetcher.fetch_all(urls)
    assert first.content == last.content == b"<p>ok</p>"
    assert isinstance(missing, FetchError) and "404" in str(missing)
