import socket

import pytest

from summarizer.ingest.http import (
    ConnectionFailedError,
    Fetcher,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsupportedSchemeError,
    check_scheme,
)
from tests.feeds.conftest import FLAKY_FAILURES, LAST_MODIFIED

# Every failure mode must end quickly; a hang fails the test instead of stalling the suite.
pytestmark = pytest.mark.timeout(60)


def test_fetch_returns_body_validators_and_names_the_tool(feed_server, fetcher):
    result = fetcher.fetch(feed_server.url("/rss.xml"))
    assert result.status == 200 and not result.not_modified
    assert b"Harbor City Gazette" in result.content
    assert result.etag and result.last_modified == LAST_MODIFIED
    assert result.content_type == "application/rss+xml" and result.charset == "utf-8"
    (request,) = feed_server.requests_for("/rss.xml")
    assert request.headers["user-agent"].startswith("summarizer/")


def test_conditional_get_sends_validators_and_reports_not_modified(feed_server, fetcher):
    first = fetcher.fetch(feed_server.url("/rss.xml"))
    second = fetcher.fetch(feed_server.url("/rss.xml"), etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.not_modified and second.content == b""
    assert second.etag == first.etag
    request = feed_server.requests_for("/rss.xml")[-1]
    assert request.headers["if-none-match"] == first.etag
    assert request.headers["if-modified-since"] == LAST_MODIFIED


def test_server_error_is_retried_then_reported(feed_server, fetcher):
    with pytest.raises(HTTPStatusError, match="HTTP 500") as caught:
        fetcher.fetch(feed_server.url("/error500.xml"))
    assert caught.value.status == 500
    assert len(feed_server.requests_for("/error500.xml")) == 2  # one try + one retry


def test_transient_errors_recover_within_the_retry_budget(feed_server):
    with Fetcher(read_timeout=0.5, retries=FLAKY_FAILURES, backoff_s=0.01, trust_env=False) as patient:
        result = patient.fetch(feed_server.url("/flaky.xml"))
    assert result.status == 200
    assert len(feed_server.requests_for("/flaky.xml")) == FLAKY_FAILURES + 1


def test_client_errors_are_not_retried(feed_server, fetcher):
    with pytest.raises(HTTPStatusError, match="404"):
        fetcher.fetch(feed_server.url("/articles/missing.html"))
    assert len(feed_server.requests_for("/articles/missing.html")) == 1


def test_slow_server_times_out(feed_server, fetcher):
    with pytest.raises(FetchTimeoutError, match="timed out"):
        fetcher.fetch(feed_server.url("/slow.xml"))


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_body_over_the_size_cap_is_aborted(feed_server, fetcher, path):
    with pytest.raises(ResponseTooLargeError, match="limit"):
        fetcher.fetch(feed_server.url(path))


def test_redirect_loop_is_reported(feed_server, fetcher):
    with pytest.raises(TooManyRedirectsError, match="redirect loop"):
        fetcher.fetch(feed_server.url("/loop-a"))


def test_redirect_limit(feed_server):
    with Fetcher(max_redirects=0, retries=0, trust_env=False) as strict:
        with pytest.raises(TooManyRedirectsError, match="more than 0 redirects"):
            strict.fetch(feed_server.url("/moved.xml"))


def test_redirect_is_followed(feed_server, fetcher):
    result = fetcher.fetch(feed_server.url("/moved.xml"))
    assert result.final_url == feed_server.url("/rss.xml") and result.url == feed_server.url("/moved.xml")
    assert b"Harbor City Gazette" in result.content


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "javascript:alert(1)",
                                 "data:text/html,hi", "example.org/feed.xml"])
def test_only_http_and_https_are_fetched(fetcher, url):
    with pytest.raises(UnsupportedSchemeError, match="only http:// and https://"):
        fetcher.fetch(url)


def test_redirect_to_a_local_file_is_refused(feed_server, fetcher):
    with pytest.raises(UnsupportedSchemeError, match="file"):
        fetcher.fetch(feed_server.url("/redirect-to-file"))


def test_refused_connection_is_a_fetch_error(fetcher):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailedError, match="cannot fetch"):
        fetcher.fetch(f"http://127.0.0.1:{closed_port}/feed.xml")


def test_fetch_errors_are_os_errors_with_the_url():
    error = UnsupportedSchemeError("nope", "file:///x")
    assert isinstance(error, FetchError) and isinstance(error, OSError)
    assert error.url == "file:///x" and str(error) == "nope"


def test_check_scheme_accepts_uppercase_http():
    check_scheme("HTTPS://example.org/feed")
