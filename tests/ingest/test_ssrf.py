"""Issue 37.1: no request to loopback, private, link-local, multicast, reserved or unspecified
addresses unless allowed, checked on the address actually connected to and after every redirect.

The ``network_guard`` fixture stands in for DNS and refuses every connection it sees: a refusal must
come from the fetcher's policy *before* any connect, so ``guard.connects`` stays empty."""

from __future__ import annotations

import pytest

from summarizer.ingest.feeds import iter_source_articles, load_feed_articles
from summarizer.ingest.http import Fetcher, FetchError

pytestmark = pytest.mark.timeout(60)

METADATA_URL = "http://169.254.169.254/latest/meta-data/"


def strict_fetcher(**options) -> Fetcher:
    return Fetcher(connect_timeout=0.5, read_timeout=0.5, total_timeout=3.0, retries=0, trust_env=False,
                   allow_private_hosts=False, **options)


@pytest.mark.parametrize(("url", "kind"), [
    (METADATA_URL, "link-local"),
    ("http://metadata.evil.example/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://v6-local.evil.example/", "link-local"),
    ("http://127.0.0.1:8080/admin", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://mapped.evil.example/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://0x7f.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://intranet.evil.example/", "private"),
    ("http://192.168.1.1/router", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://[64:ff9b::a00:1]/", "private"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
])
def test_ssrf_destinations_are_refused_before_any_connect(network_guard, url, kind):
    with strict_fetcher() as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    message = str(caught.value)
    assert message.startswith(f"refused to fetch {url}") and f" {kind} address" in message
    assert "docs/security.md" in message
    assert network_guard.connects == []


def test_ssrf_metadata_refusal_names_cloud_metadata(network_guard):
    with strict_fetcher() as fetcher, pytest.raises(FetchError, match=r"169\.254\.169\.254 is a link-local "
                                                                      r"address \(cloud metadata\)"):
        fetcher.fetch(METADATA_URL)


@pytest.mark.parametrize("url", [METADATA_URL, "http://metadata.evil.example/", "http://[fe80::1]/"])
def test_ssrf_link_local_stays_refused_with_allow_private_hosts(network_guard, url):
    # The option opens loopback and private ranges only.
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        with pytest.raises(FetchError, match="link-local"):
            fetcher.fetch(url)
    assert network_guard.connects == []


def test_ssrf_redirect_to_metadata_is_refused_even_with_the_option(network_guard, local_server):
    network_guard.allow_loopback = True
    local_server.routes["/story"] = lambda request: request.redirect(METADATA_URL)
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        with pytest.raises(FetchError, match="refused to fetch http://169.254.169.254/.*link-local"):
            fetcher.fetch(local_server.url("/story"))
    assert local_server.hits["/story"] == 1
    assert network_guard.non_loopback_connects() == []


def test_ssrf_redirect_to_a_name_resolving_private_is_refused(network_guard, local_server):
    network_guard.allow_loopback = True
    local_server.routes["/story"] = lambda request: request.redirect("http://intranet.evil.example/secret")
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        # 10.0.0.1 is private: allowed by the option, so the connect is attempted (and refused by the
        # guard); the metadata address never is.
        with pytest.raises(FetchError):
            fetcher.fetch(local_server.url("/story"))
    assert network_guard.connects[-1] == "10.0.0.1"


def test_ssrf_connect_goes_to_the_checked_address_no_rebinding(network_guard):
    """The name is resolved once per connection and the socket connects to exactly that address: a
    resolver answering a public address first and the metadata address afterwards gains nothing."""
    answers = iter([["93.184.216.34"], ["169.254.169.254"], ["169.254.169.254"]])
    network_guard.dns["rebind.example"] = lambda: next(answers)
    with strict_fetcher() as fetcher, pytest.raises(FetchError, match="cannot fetch"):
        fetcher.fetch("http://rebind.example/")
    assert network_guard.lookups.count("rebind.example") == 1
    assert network_guard.connects == ["93.184.216.34"]


def test_ssrf_private_hosts_are_reached_with_the_option_or_env(local_server, monkeypatch):
    local_server.routes["/page"] = lambda request: request.send_body(200, b"<p>intranet</p>")
    monkeypatch.delenv("SUMMARIZER_ALLOW_PRIVATE_HOSTS", raising=False)
    with Fetcher(retries=0, trust_env=False) as fetcher, pytest.raises(FetchError, match="loopback"):
        fetcher.fetch(local_server.url("/page"))
    assert local_server.hits["/page"] == 0
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        assert fetcher.fetch(local_server.url("/page")).content == b"<p>intranet</p>"
    monkeypatch.setenv("SUMMARIZER_ALLOW_PRIVATE_HOSTS", "1")
    with Fetcher(retries=0, trust_env=False) as fetcher:
        assert fetcher.fetch(local_server.url("/page")).status == 200
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=False) as fetcher:
        with pytest.raises(FetchError, match="loopback"):
            fetcher.fetch(local_server.url("/page"))


def test_ssrf_refused_teaser_link_is_a_per_article_problem_and_the_feed_goes_on(network_guard, local_server):
    network_guard.allow_loopback = True
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
      <item><title>Metadata</title><link>{METADATA_URL}</link>
        <description>A teaser that points at the cloud metadata service of the machine. Read more</description></item>
      <item><title>Story</title><link>{local_server.url('/story')}</link>
        <description>{'A full story with plenty of words in it. ' * 20}</description></item>
    </channel></rss>""".encode()
    local_server.routes["/feed.xml"] = lambda request: request.send_body(200, feed, "application/rss+xml")
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        metadata, story = load_feed_articles(local_server.url("/feed.xml"), fetcher)
    problems = [metadata.error or "", *metadata.metadata["warnings"]]
    assert any("refused to fetch http://169.254.169.254" in problem for problem in problems)
    assert story.error is None and "plenty of words" in story.text
    assert network_guard.non_loopback_connects() == []


def test_ssrf_refused_source_is_one_error_record_and_the_batch_goes_on(network_guard, local_server):
    network_guard.allow_loopback = True
    local_server.routes["/page.html"] = lambda request: request.send_body(
        200, b"<html><body><article><h1>Title</h1><p>" + b"Words of a story. " * 40 + b"</p></article></body></html>")
    with Fetcher(retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        refused, page = iter_source_articles([METADATA_URL, local_server.url("/page.html")], fetcher)
    assert refused.error.startswith(f"refused to fetch {METADATA_URL}")
    assert page.error is None and "Words of a story." in page.text
    assert network_guard.non_loopback_connects() == []


def test_ssrf_cli_run_refuses_by_default_and_allow_private_hosts_opens_loopback(local_server, tmp_path,
                                                                                 monkeypatch, capsys):
    from summarizer.cli.main import main

    monkeypatch.delenv("SUMMARIZER_ALLOW_PRIVATE_HOSTS", raising=False)
    body = b"<html><body><article><h1>Budget</h1><p>" + b"The council approved the budget today. " * 30 + \
        b"</p></article></body></html>"
    local_server.routes["/budget.html"] = lambda request: request.send_body(200, body)
    url = local_server.url("/budget.html")
    out = tmp_path / "out.jsonl"
    assert main(["run", url, "--model", "lead-3", "--out", str(out)]) == 1
    assert "refused to fetch" in out.read_text() and "loopback" in out.read_text()
    assert local_server.hits["/budget.html"] == 0
    assert main(["run", url, "--model", "lead-3", "--out", str(out), "--allow-private-hosts"]) == 0
    assert "council approved the budget" in out.read_text()


def test_ssrf_through_an_environment_proxy_the_destination_is_still_checked(network_guard, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with Fetcher(retries=0, trust_env=True, allow_private_hosts=False) as fetcher:
        with pytest.raises(FetchError, match="refused to fetch http://metadata.evil.example/.*link-local"):
            fetcher.fetch("http://metadata.evil.example/latest/meta-data/")
    assert network_guard.connects == []


def test_ssrf_https_keeps_the_host_name_for_sni_and_the_host_header(tmp_path, monkeypatch):
    """The connect goes to the checked address; TLS still verifies and names the host."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    server_names: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    port = server.server_address[1]
    try:
        with Fetcher(retries=0, trust_env=True, allow_private_hosts=True) as fetcher:
            result = fetcher.fetch(f"https://localhost:{port}/story")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert result.content == f"host=localhost:{port}".encode()
    assert server_names == ["localhost"]
