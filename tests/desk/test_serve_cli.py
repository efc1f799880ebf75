"""`summarizer serve` as a user runs it: a subprocess on 127.0.0.1 that polls its --feeds in the background."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
FIRST_POLL_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout_s: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"summarizer serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_serve_polls_its_feeds_in_the_background(tmp_path, fixture_server):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - url: {fixture_server}/rss.xml\n    name: Gazette from the list\n"
                     f"  - {fixture_server}/atom.xml\n", encoding="utf-8")
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    environment.pop("SUMMARIZER_DESK_TOKEN", None)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        environment.pop(name, None)
    command = [sys.executable, "-m", "summarizer.cli.main", "serve", "--store", str(tmp_path / "news.db"),
               "--port", str(port), "--poll", "1h", "--feeds", str(feeds), "--model", "lead-3", "--bullets", "3",
               "--allow-private-hosts"]
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=10.0) as client:
            wait_for(lambda: client.get("/api/feeds").status_code == 200, STARTUP_TIMEOUT_S, process)
            wait_for(lambda: client.get("/api/articles").json()["total"] == 5, FIRST_POLL_TIMEOUT_S, process)
            feeds_state = client.get("/api/feeds").json()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert feeds_state["poll_interval_s"] == 3600.0
    by_url = {feed["url"]: feed for feed in feeds_state["feeds"]}
    gazette = by_url[f"{fixture_server}/rss.xml"]
    assert gazette["status"] == "ok" and gazette["summarized"] == 3
    # Next poll about an hour away (jittered), not right away again.
    assert 3600 * 0.85 < gazette["schedule"]["next_poll_in_s"] <= 3600 * 1.1


def test_serve_refuses_bad_options(tmp_path, capsys):
    from summarizer.cli.main import main

    assert main(["serve", "--store", str(tmp_path / "a.db"), "--poll", "soon"]) == 2
    assert "--poll" in capsys.readouterr().err
    assert main(["serve", "--store", str(tmp_path / "a.db"), "--port", "70000"]) == 2
    assert main(["serve", "--store", str(tmp_path / "a.db"), "--model", "no-such-model-spec"]) == 2
    assert "cannot use model 'no-such-model-spec'" in capsys.readouterr().err


def test_cli_stays_light_without_the_web_stack():
    """`import summarizer.cli.main` (every `summarizer` command) imports no part of the desk's web stack."""
    probe = ("import sys, summarizer.cli.main; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'uvicorn', 'jinja2', 'multipart'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, check=True)
    assert result.stdout.strip() == "[]"
