"""A programmable HTTP server on 127.0.0.1 (ephemeral port, in a thread) for the fetching tests.

Each test registers its own routes: ``server.routes["/path"] = handler`` where ``handler(request)``
writes the answer with the helpers below. Every request is counted per path. Handlers that stall
wait on ``server.stop``, so shutting the server down never waits for a stalled answer.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[["RequestHandler"], None]


class RequestHandler(BaseHTTPRequestHandler):
    server: LocalHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    def send_body(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
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
        owner = self.server.owner
        with owner.lock:
            owner.hits[path] += 1
        route = owner.routes.get(path)
        if route is None:
            self.send_body(404, b"<html><body><h1>Not found</h1></body></html>")
        else:
            try:
                route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout under test): nothing left to answer


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.httpd = LocalHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.owner = self
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
