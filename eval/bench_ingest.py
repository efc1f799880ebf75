"""Feed ingest benchmark (issue 38.2): a poll's linked pages fetched concurrently vs one at a time.

A fixture feed of teaser items is served on 127.0.0.1; each item's page answers after a delay, like
a slow news site. The same feed is ingested twice, with a fetcher that takes one link at a time and
with the default one, and the articles must come out identical.

    python eval/bench_ingest.py [--items 100] [--delay 0.5]
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from summarizer.ingest.feeds import load_feed_articles
from summarizer.ingest.http import Fetcher

TARGET_RATIO = 5.0


def _feed(base: str, n_items: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>"
        f"<description>Teaser of story {n}: the harbour authority announced changes to the ferry "
        f"timetable for the summer season…</description></item>" for n in range(n_items))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Wire</title>{items}'
            f"</channel></rss>").encode()


def _page(n: int) -> bytes:
    paragraphs = "".join(f"<p>Story {n}, paragraph {m}: the ferry to island {m} leaves at {m + 6} o'clock "
                         f"from pier {n % 7}, the authority said.</p>" for m in range(10))
    return f"<html><body><article><h1>Story {n}</h1>{paragraphs}</article></body></html>".encode()


class _BenchServer:
    """The feed at /feed.xml and its pages, each page answered after ``delay_s``."""

    def __init__(self, n_items: int, delay_s: float):
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/feed.xml":
                    body, kind = owner.feed, "application/rss+xml"
                elif self.path.startswith("/story/"):
                    owner.stop.wait(delay_s)
                    body, kind = _page(int(self.path.rsplit("/", 1)[1])), "text/html; charset=utf-8"
                else:
                    body, kind = b"not found", "text/plain"
                self.send_response(200 if body != b"not found" else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.feed = _feed(self.base, n_items)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> _BenchServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _ingest(url: str, **limits: int) -> tuple[float, list[dict[str, Any]]]:
    # The server is on loopback, which the fetcher refuses unless told (docs/security.md).
    with Fetcher(trust_env=False, allow_private_hosts=True, **limits) as fetcher:
        started = time.perf_counter()
        articles = [article.to_dict() for article in load_feed_articles(url, fetcher)]
        return time.perf_counter() - started, articles


def measure_feed_ingest(n_items: int = 100, delay_s: float = 0.5) -> dict[str, Any]:
    """Seconds to ingest the fixture feed one link at a time and with the default concurrency."""
    with _BenchServer(n_items, delay_s) as server:
        url = server.base + "/feed.xml"
        sequential_s, sequential = _ingest(url, max_concurrent=1)
        concurrent_s, concurrent = _ingest(url)
    complete = all("paragraph 9" in article["text"] for article in concurrent)
    ratio = sequential_s / concurrent_s
    same = sequential == concurrent and len(concurrent) == n_items and complete
    return {"n_items": n_items, "delay_s": delay_s, "sequential_s": sequential_s, "concurrent_s": concurrent_s,
            "ratio": ratio, "same_articles": same, "n_articles": len(concurrent),
            "met": same and ratio >= TARGET_RATIO}


def format_row(result: dict[str, Any]) -> str:
    status = "met" if result["met"] else "miss"
    same = (f"same {result['n_articles']} articles" if result["same_articles"]
            else f"articles DIFFER ({result['n_articles']} concurrent)")
    return (f"{status:<4} feed ingest: {result['n_items']} teaser items, {result['delay_s']:g} s pages: "
            f"{result['ratio']:.1f}x one link at a time ({result['sequential_s']:.1f} s -> "
            f"{result['concurrent_s']:.1f} s; target {TARGET_RATIO:g}x), {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100, help="teaser items in the feed (default: 100)")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds each page takes to answer (default: 0.5)")
    args = parser.parse_args()
    print(format_row(measure_feed_ingest(args.items, args.delay)))


if __name__ == "__main__":
    main()
