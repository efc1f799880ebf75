"""Any OpenAI-compatible chat-completions server: llama.cpp's llama-server, vLLM, TGI, Ollama, OpenAI.

The model runs elsewhere; this backend sends the shared bullet prompt (summarizer.prompts) and returns
the raw reply, so bullets are cleaned exactly as for the in-process LLM backends. Requests for a batch
go out together from a bounded thread pool (``concurrency``), each with a timeout and retried with
exponential backoff when the failure may be temporary (connection refused, timeout, 429, 5xx).

Every failure names the URL and what happened, and stays with its article: the rest of the batch is
still summarized.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from summarizer.articles import Article
from summarizer.backends.base import Backend, BackendOptions, GeneratedText, run_concurrently
from summarizer.hub import ModelUnavailableError
from summarizer.prompts import build_messages
from summarizer.specs import ModelSpec

INSTALL_HINT = "pip install httpx"

# Statuses a server may answer differently a moment later (overload, restart, rate limit).
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# A Retry-After longer than this is not worth blocking a batch for.
MAX_RETRY_AFTER_S = 60.0
ERROR_BODY_CHARS = 200
# offline_status() probes loopback servers; `summarizer models` must stay fast when none runs.
PROBE_TIMEOUT_S = 0.5
# load() checks that something accepts connections at base_url; a slow network still connects within this.
CONNECT_PROBE_S = 10.0


class OpenAICompatOptions(BackendOptions):
    base_url: str = Field(description="the API root, e.g. http://127.0.0.1:8080/v1 (…/chat/completions is added)")
    model: str = Field(description="model name sent in each request (a local llama-server accepts any)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key; "
                             "unset = no Authorization header (local servers)")
    max_tokens: int = Field(200, ge=1, description="most tokens generated per article")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy decoding")
    timeout_s: float = Field(120.0, gt=0.0, description="seconds to wait for a connection and for the reply")
    max_retries: int = Field(2, ge=0, description="retries after a temporary failure (0 = one attempt)")
    backoff_s: float = Field(1.0, ge=0.0, description="first retry delay; doubles on each further retry")
    concurrency: int = Field(4, ge=1, description="requests in flight at once")
    max_input_words: int | None = Field(
        None, ge=16, description="longer articles are map-reduced in chunks; None = always send whole articles"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="added to every request body, e.g. {seed: 0, top_k: 1}"
    )


class OpenAICompatError(RuntimeError):
    """A request that failed; the message names the URL and the cause."""


class TemporaryFailure(OpenAICompatError):
    """A failure worth retrying; ``retry_after`` is the server's requested delay, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connection_problem(base_url: str, timeout_s: float) -> str | None:
    """Why nothing accepts a TCP connection at ``base_url``'s host and port, or None when something does."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except socket.gaierror as error:
        return f"cannot resolve host '{host}' ({error.strerror or error})"
    except ConnectionRefusedError:
        return f"nothing is listening at {where} (connection refused)"
    except TimeoutError:
        return f"no answer from {where} within {timeout_s:g} s"
    except OSError as error:
        return f"cannot connect to {where}: {error.strerror or error}"


def finish_reason_hit_limit(finish_reason: str | None) -> bool | None:
    """OpenAI's finish_reason: "length" = cut by max_tokens; "stop" (and others) = the model stopped."""
    if not finish_reason:
        return None
    return finish_reason == "length"


def retry_after_seconds(value: str | None) -> float | None:
    """The delay of a Retry-After header given in seconds (the HTTP-date form is ignored)."""
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value else None
    except ValueError:
        return None


class OpenAICompatBackend(Backend):
    backend_id = "openai-compat"
    Options = OpenAICompatOptions
    supports_batch = True
    needs_network = True
    install_hint = INSTALL_HINT

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.options: OpenAICompatOptions
        self.endpoint = self.options.base_url.rstrip("/") + "/chat/completions"
        self._client: Any = None

    # --- lifecycle -------------------------------------------------------------------------------
    def load(self) -> None:
        scheme = urlsplit(self.options.base_url).scheme
        if scheme not in {"http", "https"} or not urlsplit(self.options.base_url).hostname:
            raise ValueError(f"base_url must be an http(s) URL, got '{self.options.base_url}' "
                             f"(spec '{self.spec.name}')")
        try:
            import httpx
        except ImportError as missing:
            raise ImportError(f"httpx is needed for openai-compat models: {INSTALL_HINT}") from missing
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.options.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.check_reachable()
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.options.timeout_s),
            limits=httpx.Limits(max_connections=self.options.concurrency),
        )

    def check_reachable(self) -> None:
        """Fail at load, once, when nothing answers at base_url: otherwise every article of the batch
        would wait out its own connection attempts and retries before failing the same way."""
        reason = connection_problem(self.options.base_url, min(self.options.timeout_s, CONNECT_PROBE_S))
        if reason is None:
            return
        raise ModelUnavailableError(
            f"{reason}; spec '{self.spec.name}' sends requests to {self.options.base_url}: start the server "
            "(e.g. `llama-server -m model.gguf --port 8080`, `vllm serve MODEL`) or fix base_url"
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._loaded = False

    def offline_status(self) -> tuple[bool, str]:
        if not is_loopback(urlsplit(self.options.base_url).hostname or ""):
            return False, f"needs network: server at {self.options.base_url}"
        if connection_problem(self.options.base_url, PROBE_TIMEOUT_S) is None:
            return True, f"local server at {self.options.base_url}"
        return False, f"no server is listening at {self.options.base_url} (start it first)"

    # --- generation ------------------------------------------------------------------------------
    def input_limit(self) -> int | None:
        return self.options.max_input_words

    def batch_size(self) -> int:
        return self.options.concurrency

    def chat_request(self, article: Article, n_bullets: int) -> dict[str, Any]:
        return {
            "model": self.options.model,
            "messages": build_messages(article, n_bullets),
            "max_tokens": self.options.max_tokens,
            "temperature": self.options.temperature,
            "stream": False,
            **self.options.extra_body,
        }

    def complete(self, article: Article, n_bullets: int) -> str:
        """One article's reply text, retrying temporary failures; raises OpenAICompatError."""
        self.ensure_loaded()
        body = self.chat_request(article, n_bullets)
        retries = 0
        while True:
            try:
                return self._post(body)
            except TemporaryFailure as failure:
                if retries == self.options.max_retries:
                    suffix = f" (gave up after {retries + 1} attempts)" if retries else ""
                    raise OpenAICompatError(f"{failure}{suffix}") from failure
                delay = self.options.backoff_s * 2**retries
                time.sleep(failure.retry_after if failure.retry_after is not None else delay)
                retries += 1

    def _post(self, body: dict[str, Any]) -> GeneratedText:
        import httpx

        url = self.endpoint
        try:
            response = self._client.post(url, json=body)
        except httpx.ConnectError as error:
            if "refused" in str(error).lower():
                raise TemporaryFailure(f"connection refused to {url} (is the server running?)") from error
            raise TemporaryFailure(f"cannot connect to {url}: {error} (is the server running?)") from error
        except httpx.TimeoutException as error:
            raise TemporaryFailure(f"timed out after {self.options.timeout_s:g} s waiting for {url}") from error
        except httpx.TransportError as error:
            raise TemporaryFailure(f"request to {url} failed: {type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            message = f"HTTP {response.status_code} from {url}: {response.text[:ERROR_BODY_CHARS]}"
            if response.status_code in {401, 403}:
                message += f" (is ${self.options.api_key_env} set to a valid API key?)"
            if response.status_code in RETRYABLE_STATUSES:
                raise TemporaryFailure(message, retry_after_seconds(response.headers.get("retry-after")))
            raise OpenAICompatError(message)
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise OpenAICompatError(
                f"unexpected reply from {url} (no choices[0].message.content): {response.text[:ERROR_BODY_CHARS]}"
            ) from error
        # Some servers send null content when the token budget ends inside a reasoning block.
        return GeneratedText((content or "").strip(), finish_reason_hit_limit(choice.get("finish_reason")))

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str | Exception]:
        """One request per article, ``concurrency`` at a time; a failed request fails only its article."""
        self.ensure_loaded()
        return run_concurrently(lambda article: self.complete(article, n_bullets), articles, self.options.concurrency)
