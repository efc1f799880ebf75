"""A careful HTTP client for feeds and article pages.

Feeds and the pages they link to are untrusted input from the open web, so every fetch is bounded:
one deadline per link that covers every retry, backoff sleep and redirect hop (each request's
connect/read timeouts shrink to the time left, so a server trickling one byte at a time cannot
stretch it), a cap on the decoded body size enforced as the bytes are decompressed (a gzip bomb is
stopped after the cap, never inflated whole), a redirect limit with loop detection, and http/https
only, for the first URL and for every redirect target alike (a ``Location: file:///etc/passwd`` must
never reach the disk). Every connection goes through the address policy of
``summarizer.ingest.address_policy``: loopback, private, link-local, multicast, reserved and
unspecified destinations are refused, checked on the address actually connected to.

Transient failures (refused connections, connect timeouts, 5xx, 429) are retried with exponential
backoff while the deadline allows; a stalled read is not retried, as a server that stalled once
mostly stalls again. ``fetch_all`` fetches many links at once (a bounded pool, a few connections per
host) and gives the results in the order of the links.

Conditional GET: pass the ``etag`` / ``last_modified`` of the previous poll and a 304 answer comes
back as a result with ``not_modified=True`` and no content.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpcore
import httpx

from summarizer import __version__
from summarizer.ingest.address_policy import (
    SECURITY_DOC,
    AddressRefusedError,
    GuardedNetworkBackend,
    allow_private_hosts_from_env,
    allowed_addresses,
    check_url_host,
)

log = logging.getLogger(__name__)

USER_AGENT = f"summarizer/{__version__} (news-digest; +https://github.com/summarizer/summarizer)"
ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MIB = 1024 * 1024
# Only the encodings decoded here under the size cap are asked for.
ACCEPT_ENCODING = "gzip, deflate"
# Decompressed bytes produced per step: what the cap can overshoot by before the check stops it.
DECODE_CHUNK_BYTES = 64 * 1024
# Browsers open six connections per host over HTTP/1.1; a feed's pages mostly share one host.
DEFAULT_MAX_CONCURRENT = 8
DEFAULT_MAX_PER_HOST = 6


class FetchError(OSError):
    """A URL could not be fetched. An OSError, so callers that report unreadable inputs catch it."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


class UnsupportedSchemeError(FetchError):
    """The URL (or a redirect target) is not http(s): file://, ftp://, data:, javascript:..."""


class FetchTimeoutError(FetchError):
    pass


class ConnectTimeoutError(FetchTimeoutError):
    """No connection within the connect timeout: retried, unlike a stalled read."""


class DestinationRefusedError(FetchError):
    """The address policy refuses the destination (loopback, private, link-local...)."""


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


def _decompressor(encoding: str) -> zlib._Decompress:
    # gzip: header and trailer checked by zlib; deflate: the zlib wrapper (raw deflate is tried when
    # the first bytes are not one, as some servers send it).
    return zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)


class CappedDecoder:
    """Content-Encoding decoding that never produces more than ``DECODE_CHUNK_BYTES`` per step, so the
    caller's size check runs between steps instead of after a whole network chunk was inflated."""

    def __init__(self, encoding: str, url: str):
        self.encoding = encoding
        self.url = url
        self.decompressor = _decompressor(encoding) if encoding in ("gzip", "deflate") else None
        self.started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self.decompressor is None:
            if data:
                yield data
            return
        try:
            yield from self._inflate(data)
        except zlib.error as error:
            if self.encoding == "deflate" and not self.started:
                self.decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                self.started = True
                yield from self.decode(data)
                return
            raise FetchError(f"cannot decode the {self.encoding} body of {self.url}: {error}", self.url) from None

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        assert self.decompressor is not None
        while True:
            if self.decompressor.eof:
                return  # trailing bytes after the compressed stream are ignored, as browsers do
            piece = self.decompressor.decompress(data, DECODE_CHUNK_BYTES)
            self.started = True
            data = self.decompressor.unconsumed_tail
            if piece:
                yield piece
            # A full piece may leave output inside zlib even when all input was consumed.
            if not data and len(piece) < DECODE_CHUNK_BYTES:
                return


def _content_encoding(headers: dict[str, str], url: str) -> str:
    codings = [coding.strip().lower() for coding in headers.get("content-encoding", "").split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    if not codings:
        return "identity"
    if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"{url} is sent with content-encoding {', '.join(codings)}, which is not decoded here "
                         f"(asked for: {ACCEPT_ENCODING})", url)
    return "gzip" if codings[0] == "x-gzip" else codings[0]


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the address policy at TCP connect time (see address_policy)."""

    def __init__(self, allow_private_hosts: bool, trust_env: bool, limits: httpx.Limits):
        super().__init__(trust_env=trust_env, limits=limits)
        # httpx has no parameter for httpcore's network backend, so the pool is rebuilt with the
        # same settings and the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private_hosts),
        )


class ProxyAwareTransport(httpx.BaseTransport):
    """HTTP(S)_PROXY / NO_PROXY from the environment, as other command-line tools honour them.

    Through a proxy the destination's addresses are checked here before the request (the proxy makes
    the connection, so this check cannot be the one on the connected address); direct connections
    are checked at connect time.
    """

    def __init__(self, direct: httpx.BaseTransport, proxies: dict[str, httpx.BaseTransport],
                 allow_private_hosts: bool):
        self.direct = direct
        self.proxies = proxies
        self.allow_private_hosts = allow_private_hosts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self.proxies.get(request.url.scheme)
        if proxy is None or urllib.request.proxy_bypass(request.url.host):
            return self.direct.handle_request(request)
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            allowed_addresses(request.url.host, port, self.allow_private_hosts)
        except httpcore.ConnectError as error:  # no address: reported like a failed connect
            raise httpx.ConnectError(str(error), request=request) from None
        return proxy.handle_request(request)

    def close(self) -> None:
        self.direct.close()
        for proxy in self.proxies.values():
            proxy.close()


def _transport(allow_private_hosts: bool, trust_env: bool, limits: httpx.Limits) -> httpx.BaseTransport:
    direct = GuardedTransport(allow_private_hosts, trust_env, limits)
    environment = urllib.request.getproxies() if trust_env else {}
    proxies: dict[str, httpx.BaseTransport] = {
        scheme: httpx.HTTPTransport(proxy=environment[scheme], trust_env=trust_env, limits=limits)
        for scheme in ALLOWED_SCHEMES if environment.get(scheme)
    }
    return ProxyAwareTransport(direct, proxies, allow_private_hosts) if proxies else direct


class Fetcher:
    """Bounded GETs over one pooled ``httpx.Client``; use as a context manager or call ``close()``.

    Thread-safe: ``fetch`` may run in several threads at once (``fetch_all`` does).
    ``allow_private_hosts`` opens loopback and private addresses (intranet feeds); None reads
    ``SUMMARIZER_ALLOW_PRIVATE_HOSTS=1`` from the environment. Link-local stays refused.
    """

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
        allow_private_hosts: bool | None = None,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        max_per_host: int = DEFAULT_MAX_PER_HOST,
    ):
        if max_concurrent < 1 or max_per_host < 1:
            raise ValueError("max_concurrent and max_per_host must be at least 1")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.allow_private_hosts = (allow_private_hosts_from_env() if allow_private_hosts is None
                                    else allow_private_hosts)
        self.max_concurrent = max_concurrent
        self.max_per_host = max_per_host
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._host_slots_lock = threading.Lock()
        limits = httpx.Limits(max_connections=max(100, max_concurrent), max_keepalive_connections=20)
        # Redirects are followed by hand so each target's scheme and address are checked first.
        # trust_env: honour HTTP(S)_PROXY / NO_PROXY and SSL_CERT_FILE like other command-line tools.
        self.client = httpx.Client(
            follow_redirects=False, trust_env=trust_env,
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=_transport(self.allow_private_hosts, trust_env, limits))

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url`` within one deadline (retries and redirects included); raise a FetchError subclass
        when it cannot."""
        check_scheme(url)
        deadline = time.monotonic() + self.total_timeout
        attempt = 0
        while True:
            try:
                return self._follow(url, etag, last_modified, deadline)
            except (ConnectTimeoutError, ConnectionFailedError, HTTPStatusError) as error:
                retryable = not isinstance(error, HTTPStatusError) or error.status in RETRYABLE_STATUSES
                delay = min(self.backoff_s * 2**attempt, self.max_backoff_s)
                if not retryable or attempt >= self.retries or time.monotonic() + delay >= deadline:
                    raise
                log.info("fetching %s failed (%s); retry %d/%d in %.2f s", url, error, attempt + 1,
                         self.retries, delay)
                time.sleep(delay)
                attempt += 1

    def fetch_all(self, urls: Iterable[str]) -> Iterator[FetchResult | FetchError]:
        """Fetch every URL, ``max_concurrent`` at a time (``max_per_host`` per host), and yield each
        result, or the FetchError that stopped it, in the order of ``urls``."""
        if self.max_concurrent == 1:
            for url in urls:
                yield self._fetch_or_error(url)
            return
        pool = ThreadPoolExecutor(self.max_concurrent, thread_name_prefix="fetch")
        pending: deque[Future[FetchResult | FetchError]] = deque()
        try:
            for url in urls:
                pending.append(pool.submit(self._fetch_or_error, url))
                # A bounded look-ahead: a consumer that stops early leaves little work behind.
                if len(pending) >= 2 * self.max_concurrent:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetch_or_error(self, url: str) -> FetchResult | FetchError:
        try:
            return self.fetch(url)
        except FetchError as error:
            return error

    def _follow(self, url: str, etag: str | None, last_modified: str | None, deadline: float) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
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

    def _deadline_error(self, url: str) -> FetchTimeoutError:
        return FetchTimeoutError(f"{url} took longer than {self.total_timeout:g} s in total (the deadline for "
                                 f"one link, retries and redirects included); download aborted", url)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._host_slots_lock:
            return self._host_slots.setdefault(host, threading.BoundedSemaphore(self.max_per_host))

    def _get_once(self, url: str, headers: dict[str, str], deadline: float
                  ) -> tuple[int, dict[str, str], bytes]:
        """One request, under the address policy, the host's connection slots and the deadline."""
        try:
            check_url_host(url, self.allow_private_hosts)
        except AddressRefusedError as error:
            raise DestinationRefusedError(f"refused to fetch {url}: {error}; see {SECURITY_DOC}", url) from None
        slot = self._host_slot(url)
        if not slot.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise self._deadline_error(url)
        try:
            return self._request(url, headers, deadline)
        finally:
            slot.release()

    def _request(self, url: str, headers: dict[str, str], deadline: float) -> tuple[int, dict[str, str], bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._deadline_error(url)
        timeout = httpx.Timeout(connect=min(self.connect_timeout, remaining), read=min(self.read_timeout, remaining),
                                write=min(self.read_timeout, remaining), pool=min(self.connect_timeout, remaining))
        try:
            with self.client.stream("GET", url, headers=headers, timeout=timeout) as response:
                response_headers = {name.lower(): value for name, value in response.headers.items()}
                if response.status_code in REDIRECT_STATUSES or response.status_code == 304:
                    return response.status_code, response_headers, b""
                declared = response_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise ResponseTooLargeError(
                        f"{url} is {int(declared)} bytes, over the {self.max_bytes}-byte limit", url)
                decoder = CappedDecoder(_content_encoding(response_headers, url), url)
                chunks, size = [], 0
                for raw in response.iter_raw():
                    for chunk in decoder.decode(raw):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise ResponseTooLargeError(
                                f"{url} sent more than the {self.max_bytes}-byte limit (decoded); download "
                                f"aborted", url)
                        chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise self._deadline_error(url)
                return response.status_code, response_headers, b"".join(chunks)
        except AddressRefusedError as error:
            raise DestinationRefusedError(f"refused to fetch {url}: {error}; see {SECURITY_DOC}", url) from None
        except httpx.ConnectTimeout as error:
            raise ConnectTimeoutError(f"timed out connecting to fetch {url}", url) from error
        except httpx.TimeoutException as error:
            if time.monotonic() >= deadline - 0.01:
                raise self._deadline_error(url) from error
            raise FetchTimeoutError(f"timed out fetching {url} ({type(error).__name__})", url) from error
        except httpx.UnsupportedProtocol as error:
            raise UnsupportedSchemeError(f"refusing to fetch {url}: {error}", url) from error
        except httpx.TransportError as error:
            message = f"cannot fetch {url}: {type(error).__name__}: {error}"
            raise ConnectionFailedError(message, url) from error
        except httpx.InvalidURL as error:
            raise FetchError(f"invalid URL {url!r}: {error}", url) from error
