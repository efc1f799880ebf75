"""A careful HTTP client for feeds and article pages.

Feeds and the pages they link to are untrusted input from the open web, so every fetch is bounded:
connect/read timeouts plus an overall deadline (a server trickling one byte at a time never trips a
read timeout), a cap on the decoded body size (which also stops gzip bombs), a redirect limit with
loop detection, and http/https only, for the first URL and for every redirect target alike (a
``Location: file:///etc/passwd`` must never reach the disk). Transient failures (timeouts, refused
connections, 5xx, 429) are retried a bounded number of times with exponential backoff.

Conditional GET: pass the ``etag`` / ``last_modified`` of the previous poll and a 304 answer comes
back as a result with ``not_modified=True`` and no content.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from summarizer import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"summarizer/{__version__} (news-digest; +https://github.com/summarizer/summarizer)"
ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MIB = 1024 * 1024


class FetchError(OSError):
    """A URL could not be fetched. An OSError, so callers that report unreadable inputs catch it."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


class UnsupportedSchemeError(FetchError):
    """The URL (or a redirect target) is not http(s): file://, ftp://, data:, javascript:..."""


class FetchTimeoutError(FetchError):
    pass


class ConnectionFailedError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, message: str, url: str, status: int):
        super().__init__(message, url)
        self.status = status


@dataclass
class FetchResult:
    """One completed GET: the final response after redirects."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for parameter in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return None

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when none or unknown)."""
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def check_scheme(url: str) -> None:
    """Refuse anything but http(s), with a message that names the URL."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ALLOWED_SCHEMES:
        shown = f"'{scheme}://'" if scheme else "no scheme"
        raise UnsupportedSchemeError(f"refusing to fetch {url!r}: only http:// and https:// URLs are "
                                     f"fetched, this one has {shown}", url)


class Fetcher:
    """Bounded GETs over one pooled ``httpx.Client``; use as a context manager or call ``close()``."""

    def __init__(
        self,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        total_timeout: float = 60.0,
        max_bytes: int = 10 * MIB,
        max_redirects: int = 5,
        retries: int = 2,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        user_agent: str = USER_AGENT,
        trust_env: bool = True,
        transport: httpx.BaseTransport | None = None,
    ):
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout,
                                pool=connect_timeout)
        # Redirects are followed by hand so each target's scheme is checked before it is requested.
        # trust_env: honour HTTP(S)_PROXY / NO_PROXY and SSL_CERT_FILE like other command-line tools.
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=trust_env,
                                   headers={"User-Agent": user_agent}, transport=transport)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url``, retrying transient failures; raise a FetchError subclass when it cannot."""
        check_scheme(url)
        attempt = 0
        while True:
            try:
                return self._follow(url, etag, last_modified)
            except (FetchTimeoutError, ConnectionFailedError, HTTPStatusError) as error:
                retryable = not isinstance(error, HTTPStatusError) or error.status in RETRYABLE_STATUSES
                if not retryable or attempt >= self.retries:
                    raise
                delay = min(self.backoff_s * 2**attempt, self.max_backoff_s)
                log.info("fetching %s failed (%s); retry %d/%d in %.2f s", url, error, attempt + 1,
                         self.retries, delay)
                time.sleep(delay)
                attempt += 1

    def _follow(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.total_timeout
        visited = [url]
        current = url
        while True:
            status, response_headers, content = self._get_once(current, headers, deadline)
            if status in REDIRECT_STATUSES and "location" in response_headers:
                current = self._redirect_target(url, current, response_headers["location"], visited)
                visited.append(current)
                continue
            if status == 304:
                return FetchResult(url=url, final_url=current, status=status, headers=response_headers,
                                   etag=response_headers.get("etag", etag),
                                   last_modified=response_headers.get("last-modified", last_modified),
                                   not_modified=True)
            if status >= 400:
                reason = httpx.codes.get_reason_phrase(status)
                raise HTTPStatusError(f"HTTP {status} {reason} from {current}", url, status)
            return FetchResult(url=url, final_url=current, status=status, headers=response_headers,
                               content=content, etag=response_headers.get("etag"),
                               last_modified=response_headers.get("last-modified"))

    def _redirect_target(self, url: str, current: str, location: str, visited: list[str]) -> str:
        target = str(httpx.URL(current).join(location))
        check_scheme(target)
        if target in visited:
            chain = " -> ".join([*visited[visited.index(target):], target])
            raise TooManyRedirectsError(f"redirect loop while fetching {url}: {chain}", url)
        if len(visited) > self.max_redirects:
            raise TooManyRedirectsError(f"more than {self.max_redirects} redirects while fetching {url}", url)
        return target

    def _get_once(self, url: str, headers: dict[str, str], deadline: float
                  ) -> tuple[int, dict[str, str], bytes]:
        """One request, body streamed under the size cap and the overall deadline."""
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                response_headers = {name.lower(): value for name, value in response.headers.items()}
                if response.status_code in REDIRECT_STATUSES or response.status_code == 304:
                    return response.status_code, response_headers, b""
                declared = response_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise ResponseTooLargeError(
                        f"{url} is {int(declared)} bytes, over the {self.max_bytes}-byte limit", url)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ResponseTooLargeError(
                            f"{url} sent more than the {self.max_bytes}-byte limit; download aborted", url)
                    if time.monotonic() > deadline:
                        raise FetchTimeoutError(f"{url} took longer than {self.total_timeout:g} s in total; "
                                                f"download aborted", url)
                    chunks.append(chunk)
                return response.status_code, response_headers, b"".join(chunks)
        except httpx.TimeoutException as error:
            raise FetchTimeoutError(f"timed out fetching {url} ({type(error).__name__})", url) from error
        except httpx.UnsupportedProtocol as error:
            raise UnsupportedSchemeError(f"refusing to fetch {url}: {error}", url) from error
        except httpx.TransportError as error:
            message = f"cannot fetch {url}: {type(error).__name__}: {error}"
            raise ConnectionFailedError(message, url) from error
        except httpx.InvalidURL as error:
            raise FetchError(f"invalid URL {url!r}: {error}", url) from error
