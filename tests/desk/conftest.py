"""The desk under test: a real uvicorn server on 127.0.0.1 (ephemeral port, in a thread) over a store
filled by the desk's own poller from fixture feeds served by a local HTTP server. No test here
sends traffic anywhere but 127.0.0.1."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn

from summarizer.articles import Article
from summarizer.backends.registry import backend_for
from summarizer.desk.app import DeskSettings, create_app
from summarizer.desk.model import SharedModel, SummarySettings
from summarizer.desk.polling import Poller
from summarizer.pipeline import RunSettings
from summarizer.store import Store
from summarizer.store.resumable import run_with_store

FEED_FIXTURES = Path(__file__).resolve().parent.parent / "feeds" / "fixtures"
DESK_FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVED_FEEDS = {"/rss.xml": FEED_FIXTURES / "rss2.xml", "/atom.xml": FEED_FIXTURES / "atom.xml",
                "/hostile.xml": DESK_FIXTURES / "hostile.xml"}
SERVER_START_TIMEOUT_S = 20.0
MODEL = "lead-3"
# Stored directly (feeds never store a non-http link): the desk must still render it inert.
HOSTILE_URL_ARTICLE = Article(
    id="hostile-url", url="javascript:alert('url')", title="<img src=x onerror=alert('t2')> Ferry timetable",
    text="The ferry operator published a new timetable on Tuesday with twelve daily crossings. "
         "Passengers can book seats online from next week. The first ferry leaves at six in the morning.",
    source="Hostile Wire", published="2025-03-05T06:00:00+00:00")


def fixture_handler(base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            page = FEED_FIXTURES / "pages" / path.removeprefix("/articles/")
            if path in SERVED_FEEDS:
                body = SERVED_FEEDS[path].read_text(encoding="utf-8").replace("{{BASE}}", base[0]).encode()
                content_type = "application/rss+xml; charset=utf-8"
            elif path.startswith("/articles/") and page.is_file():
                body = page.read_bytes()
                content_type = "text/html; charset=utf-8"
            else:
                body, content_type = b"<html><body>not found</body></html>", "text/html"
                self.send_response(404)
            if content_type != "text/html":
                self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def fixture_server() -> Iterator[str]:
    base: list[str] = [""]
    server = ThreadingHTTPServer(("127.0.0.1", 0), fixture_handler(base))
    server.daemon_threads = True
    base[0] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def private_hosts_allowed() -> Iterator[None]:
    """The fetcher's SSRF policy refuses 127.0.0.1 unless told otherwise; the fixture server lives there."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUMMARIZER_ALLOW_PRIVATE_HOSTS", "1")
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def shared_model() -> SharedModel:
    backend = backend_for(MODEL)
    backend.ensure_loaded()
    return SharedModel(backend, SummarySettings(n_bullets=3, bullet_max_chars=300, max_chars=20_000))


@dataclass
class Desk:
    base: str
    store_path: Path
    feeds: dict[str, str]  # fixture path -> feed URL
    settings: DeskSettings

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base, trust_env=False, timeout=30.0, **kwargs)


def fill_store(store_path: Path, model: SharedModel, fixture_base: str, feeds: tuple[str, ...]) -> dict[str, str]:
    """Poll the fixture feeds with the desk's poller (the code `summarizer run --feeds --store` runs)."""
    urls = {path: fixture_base + path for path in feeds}
    poller = Poller(store_path, model, interval_s=None)
    for url in urls.values():
        result = poller.poll_feed(url)
        assert result is not None and not result.errors, result and result.errors
    return urls


@contextlib.contextmanager
def running_desk(settings: DeskSettings) -> Iterator[str]:
    """Serve the desk with uvicorn on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        raise RuntimeError("the desk did not start within the timeout")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, fixture_server, private_hosts_allowed, shared_model) -> Iterator[Desk]:
    store_path = tmp_path_factory.mktemp("desk") / "news.db"
    feeds = fill_store(store_path, shared_model, fixture_server, ("/rss.xml", "/atom.xml"))
    settings = DeskSettings(store_path=store_path, model=shared_model, title="Test desk")
    with running_desk(settings) as base:
        yield Desk(base=base, store_path=store_path, feeds=feeds, settings=settings)


@pytest.fixture(scope="module")
def hostile_desk(tmp_path_factory, fixture_server, private_hosts_allowed, shared_model) -> Iterator[Desk]:
    """A desk whose feed, titles, bullets and links all carry script."""
    store_path = tmp_path_factory.mktemp("hostile") / "news.db"
    feeds = fill_store(store_path, shared_model, fixture_server, ("/hostile.xml",))
    with Store(store_path) as store:
        run_with_store([HOSTILE_URL_ARTICLE], shared_model.backend, store, RunSettings(n_bullets=3), quiet=True)
    settings = DeskSettings(store_path=store_path, model=shared_model, title="Hostile desk")
    with running_desk(settings) as base:
        yield Desk(base=base, store_path=store_path, feeds=feeds, settings=settings)
