"""Issue 37.4: a gzip bomb is stopped as its decompressed bytes are produced, never held whole."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from summarizer.ingest.http import Fetcher, ResponseTooLargeError

pytestmark = pytest.mark.timeout(120)

CAP_BYTES = 256 * 1024
BOMB_DECOMPRESSED_BYTES = 64 * 1024 * 1024
# Held at most: the cap, one decompressed chunk and the compressed body; generous for the interpreter.
PEAK_LIMIT_BYTES = 8 * 1024 * 1024


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_memory_stays_near_the_cap(local_server):
    bomb = gzip_bomb(BOMB_DECOMPRESSED_BYTES)
    local_server.routes["/bomb"] = lambda request: request.send_body(
        200, bomb, "text/html", {"Content-Encoding": "gzip"})
    with Fetcher(max_bytes=CAP_BYTES, retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="limit"):
                fetcher.fetch(local_server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < PEAK_LIMIT_BYTES, f"peak {peak:,} bytes while the cap is {CAP_BYTES:,}"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity"])
def test_gzip_compressed_pages_under_the_cap_are_decoded(local_server, encoding):
    page = b"<html><body><p>" + b"A compressed story. " * 2000 + b"</p></body></html>"
    body = {"gzip": gzip.compress(page), "deflate": zlib.compress(page), "identity": page}[encoding]
    local_server.routes["/page"] = lambda request: request.send_body(
        200, body, "text/html", {"Content-Encoding": encoding})
    with Fetcher(max_bytes=CAP_BYTES, retries=0, trust_env=False, allow_private_hosts=True) as fetcher:
        assert fetcher.fetch(local_server.url("/page")).content == page
