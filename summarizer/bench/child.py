"""Run one benchmark worker in a fresh Python process and collect its result with its peak memory.

The worker is named ``module:function``; it takes a JSON-able payload and returns a JSON-able dict.
The child adds its own peak RSS and CPU time, so they belong to that worker alone.

Peak RSS is the kernel's VmHWM, the high-water mark of the child's own address space. getrusage's
ru_maxrss is not used for it: Linux carries the parent's peak over into a child at exec, so a child of
a large benchmark process would report the parent's peak as its own.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

KIB_PER_MIB = 1024
PROC_STATUS = Path("/proc/self/status")


class ChildFailed(RuntimeError):
    """A worker process exited with an error; the message carries the end of its stderr."""


def peak_rss_kib(status_text: str) -> int | None:
    """VmHWM from a /proc/PID/status text, in KiB."""
    match = re.search(r"^VmHWM:\s+(\d+) kB", status_text, re.MULTILINE)
    return int(match.group(1)) if match else None


def self_usage() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = peak_rss_kib(PROC_STATUS.read_text()) if PROC_STATUS.is_file() else None
    return {
        # Without /proc (not Linux) ru_maxrss is the best there is (KiB on Linux, bytes on macOS).
        "peak_rss_mib": round((peak if peak is not None else usage.ru_maxrss) / KIB_PER_MIB, 1),
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


def run_child(
    target: str, payload: dict[str, Any], env: dict[str, str] | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """Call ``target`` (``module:function``) with ``payload`` in a new interpreter and return its dict."""
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-") as scratch:
        payload_path, result_path = Path(scratch) / "payload.json", Path(scratch) / "result.json"
        payload_path.write_text(json.dumps(payload), encoding="utf-8")
        completed = subprocess.run(
            [sys.executable, "-m", "summarizer.bench.child", target, str(payload_path), str(result_path)],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or not result_path.is_file():
            tail = completed.stderr.strip().splitlines()[-15:]
            raise ChildFailed(f"{target} exited with {completed.returncode}:\n" + "\n".join(tail))
        return json.loads(result_path.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    target, payload_path, result_path = argv
    module_name, function_name = target.split(":")
    worker = getattr(importlib.import_module(module_name), function_name)
    result = worker(json.loads(Path(payload_path).read_text(encoding="utf-8")))
    usage = self_usage()
    # A worker whose work ran in a process of its own (a llama-server) reports that process's peak: the
    # two were alive together, so their sum bounds the pair's.
    usage["peak_rss_mib"] = round(usage["peak_rss_mib"] + result.pop("helper_peak_rss_mib", 0.0), 1)
    result.update(usage)
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
