"""A real HTTP server on 127.0.0.1 (ephemeral port, in a thread) serving the fixture feeds and pages,
plus the misbehaving endpoints the fetcher must survive. No test here touches the internet."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from summarizer.ingest.http import Fetcher

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEED_FILES = {
    "/rss.xml": "rss2.xml",
    "/atom.xml": "atom.xml",
    "/teaser.xml": "teaser.xml",
    "/malformed.xml": "malformed.xml",
    "/billion-laughs.xml": "billion_laughs.xml",
    "/passwd.xml": "passwd.xml",
}
LAST_MODIFIED = "Wed, 05 Mar 2025 10:00:00 GMT"
# Longer than the fetcher's read timeout in tests (0.5 s), short enough that nothing waits for long.
SLOW_RESPONSE_S = 2.0
BIG_BODY_BYTES = 256 * 1024
FLAKY_FAILURES = 2


@dataclass
class ServedRequest:
    path: str
    headers: dict[str, str]


@dataclass
class ServerState:
    base: str = ""
    requests: list[ServedRequest] = field(default_factory=list)
    flaky_calls: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def requests_for(self, path: str) -> list[ServedRequest]:
        return [request for request in self.requests if request.path == path]


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

        def send_body(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location: str, status: int = 302) -> None:
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            with state.lock:
                state.requests.append(ServedRequest(path, {k.lower(): v for k, v in self.headers.items()}))
            if path in FEED_FILES:
                self.serve_feed(FEED_FILES[path])
            elif path.startswith("/articles/"):
                page = FIXTURES / "pages" / path.removeprefix("/articles/")
                if page.is_file():
                    self.send_body(200, page.read_bytes(), "text/html; charset=utf-8")
                else:
                    self.send_body(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
            elif path == "/error500.xml":
                self.send_body(500, (FIXTURES / "error500.html").read_bytes(), "text/html; charset=utf-8")
            elif path == "/big":
                self.send_body(200, b"<p>" + b"x" * BIG_BODY_BYTES + b"</p>", "text/html")
            elif path == "/big-chunked":
                self.serve_without_length(b"y" * BIG_BODY_BYTES)
            elif path == "/slow.xml":
                state.stop.wait(SLOW_RESPONSE_S)
                self.serve_feed("rss2.xml")
            elif path == "/loop-a":
                self.redirect("/loop-b")
            elif path == "/loop-b":
                self.redirect("/loop-a")
            elif path == "/moved.xml":
                self.redirect("/rss.xml", 301)
            elif path == "/redirect-to-file":
                self.redirect("file:///etc/passwd")
            elif path == "/flaky.xml":
                with state.lock:
                    state.flaky_calls += 1
                    failing = state.flaky_calls <= FLAKY_FAILURES
                if failing:
                    self.send_body(503, b"<html><body>busy</body></html>", "text/html")
                else:
                    self.serve_feed("rss2.xml")
            else:
                self.send_body(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")

        def serve_feed(self, name: str) -> None:
            body = (FIXTURES / name).read_text(encoding="utf-8").replace("{{BASE}}", state.base).encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_body(200, body, "application/rss+xml; charset=utf-8",
                           {"ETag": etag, "Last-Modified": LAST_MODIFIED})

        def serve_without_length(self, body: bytes) -> None:
            # HTTP/1.0 style: no Content-Length, the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            for start in range(0, len(body), 16384):
                self.wfile.write(body[start : start + 16384])

    return Handler


@pytest.fixture
def feed_server(monkeypatch):
    """The server listens on 127.0.0.1, which the fetcher refuses by default (docs/security.md):
    fetchers made while it runs (in this process or a child) are allowed loopback."""
    monkeypatch.setenv("SUMMARIZER_ALLOW_PRIVATE_HOSTS", "1")
    state = ServerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fetcher():
    """Small timeouts, caps and backoff so every failure mode resolves within about a second; no
    proxy from the environment, so requests to 127.0.0.1 go straight to the test server."""
    with Fetcher(connect_timeout=0.5, read_timeout=0.5, total_timeout=5.0, max_bytes=64 * 1024,
                 max_redirects=3, retries=1, backoff_s=0.01, trust_env=False, allow_private_hosts=True) as client:
        yield client
