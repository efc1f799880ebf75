"""Issue 37.2: one deadline per link, retries and redirects included.

A stalled read is not retried (a server that stalled once stalls again), and the overall deadline
bounds everything: every retry, every backoff sleep, every redirect hop. The bounds asserted here are
correctness limits (the deadline plus scheduling slack), not speed targets."""

from __future__ import annotations

import time

import pytest

from summarizer.ingest.http import Fetcher, FetchError, FetchTimeoutError

pytestmark = pytest.mark.timeout(60)

# Scheduling slack on a loaded 2-core machine; the defects overshoot by whole multiples of the limit.
SLACK_S = 0.7
STALL_S = 5.0


def stall(request) -> None:
    request.server.owner.stop.wait(STALL_S)


def trickle(request) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Length", "100000")
    request.end_headers()
    for _ in range(50):
        request.wfile.write(b"x")
        request.wfile.flush()
        if request.server.owner.stop.wait(0.1):
            return


def test_deadline_stalled_read_costs_one_read_timeout_not_one_per_retry(local_server):
    local_server.routes["/stall"] = stall
    with Fetcher(read_timeout=0.5, total_timeout=30.0, retries=2, backoff_s=0.01, trust_env=False,
                 allow_private_hosts=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError):
            fetcher.fetch(local_server.url("/stall"))
        elapsed = time.monotonic() - started
    assert local_server.hits["/stall"] == 1
    assert elapsed < 0.5 + SLACK_S


def test_deadline_trickling_server_is_cut_once_at_the_overall_deadline(local_server):
    local_server.routes["/trickle"] = trickle
    with Fetcher(read_timeout=2.0, total_timeout=1.0, retries=2, backoff_s=0.01, trust_env=False,
                 allow_private_hosts=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError, match="1 s"):
            fetcher.fetch(local_server.url("/trickle"))
        elapsed = time.monotonic() - started
    assert local_server.hits["/trickle"] == 1
    assert elapsed < 1.0 + SLACK_S


def test_deadline_bounds_retries_and_backoff(local_server):
    local_server.routes["/busy"] = lambda request: request.send_body(503, b"busy")
    with Fetcher(read_timeout=1.0, total_timeout=1.0, retries=10, backoff_s=0.3, max_backoff_s=5.0,
                 trust_env=False, allow_private_hosts=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match="503"):
            fetcher.fetch(local_server.url("/busy"))
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + SLACK_S
    assert 1 <= local_server.hits["/busy"] <= 3


def test_deadline_covers_every_redirect_hop(local_server):
    def slow_redirect(target: str):
        def route(request) -> None:
            request.server.owner.stop.wait(0.4)
            request.redirect(target)
        return route

    for hop in range(4):
        local_server.routes[f"/hop{hop}"] = slow_redirect(f"/hop{hop + 1}")
    local_server.routes["/hop4"] = lambda request: request.send_body(200, b"<p>arrived</p>")
    with Fetcher(read_timeout=0.6, total_timeout=1.0, retries=2, backoff_s=0.01, max_redirects=10,
                 trust_env=False, allow_private_hosts=True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError):
            fetcher.fetch(local_server.url("/hop0"))
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + SLACK_S
    assert local_server.hits["/hop0"] == 1
