"""Load test of the desk on loopback: REQUESTS requests, CONCURRENCY at a time, spread over `/`,
`/api/articles` and `POST /api/summarize`, against a real `summarizer serve` subprocess with lead-3.

    PYTHONPATH=. .venv/bin/python eval/desk_load.py [--requests 2000] [--concurrency 32] [--out eval/desk-load.md]

The store is built first (in a temporary folder) from the shared SummEval CNN/DM articles when present
(../shared/data/summeval_cnndm100.jsonl), else from seeds/, summarized with lead-3 through the same
``run_with_store`` that `summarizer run --store` uses. Everything listens on and talks to 127.0.0.1 only.
Prints errors, p50/p95 latency per endpoint and the server's resident memory (VmRSS) before and
after, and writes the same as Markdown with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = ("/", "/api/articles", "/api/summarize")
MODEL = "lead-3"
STARTUP_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 60.0
FEED_URL = "https://loadtest.invalid/feed.xml"  # a label for grouping; never fetched


def load_articles(limit: int = 100) -> list[dict[str, str]]:
    from summarizer.paths import shared_data_dir

    shared = shared_data_dir() / "summeval_cnndm100.jsonl"
    if shared.is_file():
        rows = [json.loads(line) for line in shared.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [{"id": row["id"], "text": row["article"], "title": row["article"].split(" . ")[0][:90]}
                for row in rows[:limit]]
    seeds = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
    return [{"id": path.stem, "text": path.read_text(encoding="utf-8"), "title": path.stem} for path in seeds[:limit]]


def build_store(path: Path, articles: list[dict[str, str]]) -> None:
    from summarizer.articles import Article
    from summarizer.backends.registry import backend_for
    from summarizer.pipeline import RunSettings
    from summarizer.store import Store
    from summarizer.store.resumable import run_with_store

    stored = [Article(id=item["id"], text=item["text"], title=item["title"], url=f"https://loadtest.invalid/{index}",
                      published=f"2025-03-{1 + index % 28:02d}T{index % 24:02d}:00:00+00:00", source="Load test",
                      metadata={"feed_url": FEED_URL}) for index, item in enumerate(articles)]
    with Store(path) as store:
        store.record_feed_poll(FEED_URL, title="Load test wire")
        result = run_with_store(stored, backend_for(MODEL), store, RunSettings(n_bullets=3), quiet=True)
    if result.errors:
        raise SystemExit(f"could not build the store: {result.errors[:3]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/PID/status")


def start_server(store: Path, port: int) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    environment.pop("SUMMARIZER_DESK_TOKEN", None)
    command = [sys.executable, "-m", "summarizer.cli.main", "serve", "--store", str(store), "--port", str(port),
               "--model", MODEL, "--bullets", "3"]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_until_up(client: httpx.Client, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"summarizer serve exited: {process.stderr.read()}")
        try:
            if client.get("/api/articles", params={"per_page": "1"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("summarizer serve did not answer in time")


async def hammer(base: str, total: int, concurrency: int, texts: list[str]
                 ) -> tuple[dict[str, list[float]], list[str], float]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(total):
        queue.put_nowait(number)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                number = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            endpoint = ENDPOINTS[number % len(ENDPOINTS)]
            started = time.perf_counter()
            try:
                if endpoint == "/api/summarize":
                    text = texts[number % len(texts)]
                    response = await client.post(endpoint, json={"text": text, "title": f"load {number}"})
                    # lead-3 gives up to 3 bullets (fewer when the article has fewer usable sentences).
                    ok = response.status_code == 200 and 1 <= len(response.json()["bullets"]) <= 3
                elif endpoint == "/api/articles":
                    response = await client.get(endpoint, params={"page": str(1 + number % 5)})
                    ok = response.status_code == 200 and len(response.json()["articles"]) == 20
                else:
                    response = await client.get(endpoint, params={"page": str(1 + number % 5)})
                    ok = response.status_code == 200 and "<ul class=\"bullets\">" in response.text
                if not ok:
                    errors.append(f"{endpoint}: HTTP {response.status_code} {response.text[:120]!r}")
            except httpx.HTTPError as error:
                errors.append(f"{endpoint}: {type(error).__name__}: {error}")
            latencies[endpoint].append(time.perf_counter() - started)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def report(args: argparse.Namespace, latencies: dict[str, list[float]], errors: list[str], seconds: float,
           rss_before: float, rss_after: float, n_articles: int, load_before: float) -> str:
    command = (f"PYTHONPATH=. .venv/bin/python eval/desk_load.py --requests {args.requests} "
               f"--concurrency {args.concurrency}")
    lines = ["# Desk load test", "", f"Command: `{command}`", "",
             f"{args.requests} requests, {args.concurrency} concurrent, over 127.0.0.1 against `summarizer serve "
             f"--model {MODEL} --bullets 3` (one uvicorn worker) with a store of {n_articles} summarized articles; "
             f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; the load generator "
             f"(httpx.AsyncClient) runs on the same machine, whose 1-minute load average was {load_before:.1f} "
             "when the run began (other jobs share the CPUs: compare runs on an idle machine).", "",
             "| endpoint | requests | errors | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for endpoint in ENDPOINTS:
        values = latencies.get(endpoint, [])
        failed = sum(1 for error in errors if error.startswith(endpoint + ":"))
        if values:
            lines.append(f"| `{endpoint}` | {len(values)} | {failed} | {percentile(values, 0.5) * 1000:.1f} | "
                         f"{percentile(values, 0.95) * 1000:.1f} | {max(values) * 1000:.1f} |")
    total = sum(len(values) for values in latencies.values())
    lines += ["", f"Total: {total} requests in {seconds:.1f} s ({total / seconds:.1f} requests/s), "
              f"{len(errors)} errors.", "",
              f"Server resident memory (VmRSS): {rss_before:.1f} MiB before, {rss_after:.1f} MiB after "
              f"({rss_after - rss_before:+.1f} MiB).", ""]
    if errors:
        lines += ["First errors:", ""] + [f"- {error}" for error in errors[:10]] + [""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests in all (default: 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default: 32)")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "eval" / "desk-load.md"),
                        help="Markdown report (default: eval/desk-load.md)")
    args = parser.parse_args()
    articles = load_articles()
    with tempfile.TemporaryDirectory(prefix="desk-load-") as folder:
        store = Path(folder) / "news.db"
        build_store(store, articles)
        port = free_port()
        process = start_server(store, port)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, trust_env=False, timeout=REQUEST_TIMEOUT_S) as client:
                wait_until_up(client, process)
                # One request of each kind first, so "before" is the server as a user first meets it.
                client.get("/")
                client.post("/api/summarize", json={"text": articles[0]["text"]})
            rss_before = rss_mib(process.pid)
            load_before = os.getloadavg()[0]
            latencies, errors, seconds = asyncio.run(
                hammer(base, args.requests, args.concurrency, [item["text"] for item in articles]))
            rss_after = rss_mib(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
    text = report(args, latencies, errors, seconds, rss_before, rss_after, len(articles), load_before)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
