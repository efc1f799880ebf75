"""The desk's safety rules: who may bind where, who may call what, which URLs become links.

- Loopback by default. Any other address needs a token (``--token`` or $SUMMARIZER_DESK_TOKEN);
  ``summarizer serve`` refuses to start without one.
- With a token, every request needs it: an ``Authorization: Bearer`` header (the API, feed readers
  that support it), the signed session cookie set by the login form, or ``?token=`` once (it sets the
  session and the page reloads without it, so the token does not stay in the address bar; feeds
  accept it on every request, as most feed readers can only store a URL).
- Forms carry a per-session CSRF token; the JSON API only takes ``application/json`` bodies, which a
  cross-site page cannot send without a CORS preflight that the desk never answers.
- Bodies are read up to a limit (413 beyond), JSON that cannot be read is a 400, never a traceback.
- Only http(s) URLs become links; everything else (``javascript:``, ``data:``, ``vbscript:``) is text.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENVIRONMENT_VARIABLE = "SUMMARIZER_DESK_TOKEN"
MAX_BODY_BYTES = 1024 * 1024
SAFE_LINK_SCHEMES = ("http", "https")
# Paths anyone may load: the login form and the stylesheet/script it needs.
PUBLIC_PATHS = ("/login", "/static/")
# Paths that take ?token= on every request: feed readers keep a URL, not a cookie.
FEED_SUFFIXES = (".atom", ".rss")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
                               " form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class ApiError(Exception):
    """A request the API refuses: answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_refusal(host: str, token: str | None) -> str | None:
    """Why the desk must not listen on ``host`` with this token, or None when it may."""
    if is_loopback(host) or token:
        return None
    return (f"refusing to listen on {host} without a token: anyone who can reach it could read the store and "
            f"run the model. Give --token TOKEN (or set ${TOKEN_ENVIRONMENT_VARIABLE}), or bind 127.0.0.1")


def safe_link(url: str | None) -> str | None:
    """``url`` when it may become a link (http or https with a host), else None."""
    if not url:
        return None
    text = url.strip()
    scheme, separator, rest = text.partition(":")
    if not separator or scheme.lower() not in SAFE_LINK_SCHEMES or not rest.startswith("//") or len(rest) < 3:
        return None
    if any(character in text for character in "\x00\r\n\t <>\"'`"):
        return None
    return text


def tokens_match(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


# --- CSRF ----------------------------------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(request: Request, submitted: Any) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(submitted, expected)


# --- request bodies ------------------------------------------------------------------------------------
async def read_json_body(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object; ApiError 415/413/400 when it is not JSON, too large or unreadable."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, f"send the body as application/json, not {content_type or 'no content type'}")
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_bytes = int(declared)
        except ValueError:
            raise ApiError(400, f"Content-Length {declared!r} is not a number") from None
        if declared_bytes > limit:
            raise ApiError(413, f"the body has {declared_bytes} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"the body is larger than the limit of {limit} bytes")
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
                       ) from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(data).__name__}")
    return data


# --- middleware ----------------------------------------------------------------------------------------
class SecurityHeadersMiddleware:
    """Adds the CSP and friends to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenMiddleware:
    """With a token set, lets through only requests that carry it (see the module docstring).

    Runs inside Starlette's SessionMiddleware, so ``scope["session"]`` is the signed session.
    """

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        if path == "/login" or path.startswith("/static/") or self._authorized(request):
            await self.app(scope, receive, send)
            return
        query_token = request.query_params.get("token")
        if tokens_match(query_token, self.token) and not path.startswith("/api/"):
            if path.endswith(FEED_SUFFIXES):
                await self.app(scope, receive, send)
                return
            scope["session"]["authenticated"] = True
            response: Response = RedirectResponse(_without_token(request.url), status_code=303)
        elif path.startswith("/api/"):
            response = JSONResponse({"error": "this desk needs a token: send Authorization: Bearer TOKEN"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        elif path.endswith(FEED_SUFFIXES):
            response = PlainTextResponse("this desk needs a token: subscribe to the feed URL with ?token=TOKEN",
                                         status_code=401)
        else:
            target = path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
        await response(scope, receive, send)

    def _authorized(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and tokens_match(credentials.strip(), self.token or ""):
            return True
        return bool(request.session.get("authenticated"))


def _without_token(url: URL) -> str:
    query = urlencode([(name, value) for name, value in parse_qsl(url.query, keep_blank_values=True)
                       if name != "token"])
    return url.path + (f"?{query}" if query else "")


class LoopbackHostMiddleware:
    """On a loopback desk, answers only requests addressed to a loopback name or address (Host header),
    so a page that rebinds its own domain name to 127.0.0.1 cannot read the desk."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Request(scope).headers.get("host", "")
            try:
                name = urlsplit(f"//{host}").hostname or ""
            except ValueError:
                name = ""
            if not is_loopback(name):
                response = PlainTextResponse(f"this desk answers only on loopback addresses, not {host!r}",
                                             status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this desk only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
