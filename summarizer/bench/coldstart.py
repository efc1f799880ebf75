"""Cold start and memory of the default model, as a user meets them.

- Seconds from starting ``summarizer run SEED`` (a fresh process) to the first bullet on its standard
  output, and the same through the library (``python -m summarizer.bench.coldstart MODEL``: import,
  load the model, summarize the seed, print the first bullet). One untimed run first, so converted or
  cached files (models, byte-compiled modules) are reused, as on any run after the first.
- Peak RSS of ``summarizer run`` over the whole dev set, read from the child's rusage.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from summarizer.bench.child import run_child
from summarizer.bench.data import SEED_FILE

KIB_PER_MIB = 1024


def cli_command(model: str, inputs: list[str], *extra: str) -> list[str]:
    return [sys.executable, "-m", "summarizer.cli.main", "run", *inputs, "--model", model, *extra]


def library_command(model: str) -> list[str]:
    return [sys.executable, "-m", "summarizer.bench.coldstart", model]


def seconds_to_first_line(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds from starting ``command`` until it prints a non-empty line on stdout.

    CPU seconds are the child's user + system time up to then: on a shared machine they show the
    work itself, while wall time also holds the waits for a core.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    wall = None
    for line in process.stdout:
        if line.strip():
            wall = time.perf_counter() - started
            break
    # os.kill, not process.kill(): Popen.kill() polls first and would reap a child that has already
    # exited, leaving os.wait4 nothing to collect (and its rusage lost). Until wait4 the PID stays ours.
    os.kill(process.pid, signal.SIGKILL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    if wall is None:
        raise RuntimeError(f"{' '.join(command)} printed nothing (exit {process.returncode})")
    return wall, usage.ru_utime + usage.ru_stime


def median_seconds_to_first_line(command: list[str], repeats: int) -> dict[str, Any]:
    seconds_to_first_line(command)  # untimed: later runs reuse whatever the first one cached
    runs = [seconds_to_first_line(command) for _ in range(max(1, repeats))]
    return {
        "median_seconds": statistics.median(wall for wall, _ in runs),
        "median_cpu_seconds": statistics.median(cpu for _, cpu in runs),
        "runs": [round(wall, 3) for wall, _ in runs],
    }


def run_with_rusage(command: list[str]) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS MiB) of ``command`` run to completion."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss / KIB_PER_MIB


def dev_set_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: `summarizer run` over the dev set, with the run's own peak RSS.

    It runs from this small process because Linux starts a child's ru_maxrss at its parent's peak:
    launched straight from the benchmark process, which may hold a model, the number would be the
    benchmark's, not the run's.
    """
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-") as scratch:
        out = Path(scratch) / "summaries.jsonl"
        command = cli_command(payload["model"], [payload["dev_set"]], "--text-field", "article", "--out", str(out))
        code, seconds, peak = run_with_rusage(command)
        articles = sum(1 for line in out.open(encoding="utf-8") if line.strip()) if out.is_file() else 0
    return {"exit_code": code, "articles": articles, "wall_seconds": round(seconds, 2),
            "run_peak_rss_mib": round(peak, 1)}


def dev_set_run(model: str, dev_set: Path) -> dict[str, Any]:
    result = run_child("summarizer.bench.coldstart:dev_set_worker", {"model": model, "dev_set": str(dev_set)})
    return {key: result[key] for key in ("exit_code", "articles", "wall_seconds")} | {
        "peak_rss_mib": result["run_peak_rss_mib"]
    }


def run_coldstart(models: list[str], dev_set: Path | None, repeats: int = 3) -> dict[str, Any]:
    results: dict[str, Any] = {"seed": str(SEED_FILE.name), "repeats": repeats, "models": {}}
    for model in models:
        entry: dict[str, Any] = {
            "cli": median_seconds_to_first_line(cli_command(model, [str(SEED_FILE)]), repeats),
            "library": median_seconds_to_first_line(library_command(model), repeats),
        }
        if dev_set is not None:
            entry["dev_set_run"] = dev_set_run(model, dev_set)
        results["models"][model] = entry
    return results


def first_bullet(model: str) -> str:
    """Library path: load the model, summarize the seed, return its first bullet."""
    from summarizer.articles import parse_seed_text
    from summarizer.backends.registry import backend_for
    from summarizer.config import load_config
    from summarizer.pipeline import RunSettings, summarize_articles

    config = load_config()
    article = parse_seed_text(SEED_FILE.read_text(encoding="utf-8"), SEED_FILE.stem, str(SEED_FILE))
    summary = next(summarize_articles([article], backend_for(model), RunSettings.from_config(config)))
    if not summary.bullets:
        raise RuntimeError(f"{model} gave no bullet: {summary.error}")
    return summary.bullets[0]


if __name__ == "__main__":
    print(first_bullet(sys.argv[1]), flush=True)
