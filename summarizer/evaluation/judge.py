"""An LLM judge as a metric family: G-Eval-style 1-5 scores for coherence, consistency, fluency and
relevance (Liu et al. 2023, "G-Eval"; the dimensions and their definitions are SummEval's).

The judge is any OpenAI-compatible chat endpoint (``--judge-url``: a hosted model, vLLM, llama.cpp's
llama-server), or, without a URL, the packaged SmolLM2 GGUF served by xllamacpp on 127.0.0.1 (a smoke
test of the machinery, not a judge to trust). Prompts are versioned files in judge_prompts/<version>/.
Every answer is cached on disk by (prompt version, model, article hash, summary hash, dimension), so a
second run costs no model call. An answer without a score from 1 to 5 is a parse failure: it is counted
and reported, and the dimension is a missing value for that summary, never a 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from summarizer.evaluation.registry import ArticleInput, Column, MetricFamily, MetricUnavailableError, ScoringContext

DIMENSIONS = ("coherence", "consistency", "fluency", "relevance")
PROMPT_VERSION = "v1"
PROMPT_DIR = Path(__file__).parent / "judge_prompts"
DEFAULT_LOCAL_MODEL = "smollm2-135m"
# Articles longer than this are cut for the prompt, so a small local model's context always holds
# prompt, article and summary; the cut is recorded in the configuration.
MAX_ARTICLE_WORDS = 600
# A score needs a handful of tokens; a longer answer is a model that did not follow the format.
MAX_ANSWER_TOKENS = 8
REQUEST_TIMEOUT_S = 120.0
LOCAL_CONTEXT_TOKENS = 4096
# The answer's first line, after an optional label ("Score:", "Coherence score (1-5):"), must be the score
# alone ("4", "4.", "4/5", "4 out of 5"). "1. Read the article..." is the model reciting the steps, not a 1.
_LABEL = re.compile(r"^[^\d]*?(?:score|rating)[^:=]*[:=]\s*", re.IGNORECASE)
_SCORE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/\s*5|out of 5)?\s*[.!]?")


class JudgeError(MetricUnavailableError):
    """The judge could not be reached or started; the message names the URL or model and the cause."""


def load_prompts(version: str = PROMPT_VERSION) -> dict[str, str]:
    folder = PROMPT_DIR / version
    if not folder.is_dir():
        known = sorted(p.name for p in PROMPT_DIR.iterdir() if p.is_dir())
        raise JudgeError(f"judge prompt version {version!r} not found in {PROMPT_DIR} (known: {', '.join(known)})")
    return {dimension: (folder / f"{dimension}.txt").read_text(encoding="utf-8") for dimension in DIMENSIONS}


def parse_score(reply: str) -> float | None:
    """The score from 1 to 5 that the answer's first line consists of; None otherwise (a parse failure)."""
    lines = [line.strip() for line in (reply or "").splitlines() if line.strip()]
    if not lines:
        return None
    match = _SCORE.fullmatch(_LABEL.sub("", lines[0]))
    if not match:
        return None
    value = float(match.group(1))
    return value if 1.0 <= value <= 5.0 else None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_prompt(template: str, article: str, summary: str, article_words: int = MAX_ARTICLE_WORDS) -> str:
    words = article.split()
    if len(words) > article_words:
        article = " ".join(words[:article_words]) + " ..."
    # str.replace, not format: articles contain braces.
    return template.replace("{article}", article).replace("{summary}", summary)


class JudgeCache:
    """One JSON file per answer under cache_dir, named by the hash of everything the answer depends on."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, prompt_version: str, model: str, article: str, summary: str, dimension: str) -> Path:
        key = sha256_text(json.dumps([prompt_version, model, sha256_text(article), sha256_text(summary), dimension]))
        return self.folder / key[:2] / f"{key}.json"

    def get(self, path: Path) -> str | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))["reply"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: ask again

    def put(self, path: Path, reply: str, meta: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"reply": reply, **meta}, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)


class ChatClient:
    """POST /chat/completions to an OpenAI-compatible server, greedy, a few tokens."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key

    def complete(self, prompt: str) -> str:
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0.0,
                "max_tokens": MAX_ANSWER_TOKENS, "seed": 0}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read()[:200].decode("utf-8", "replace")
            raise JudgeError(f"judge at {self.base_url} answered HTTP {error.code}: {detail}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise JudgeError(f"judge at {self.base_url} could not be reached: {error}") from error
        try:
            return payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as error:
            raise JudgeError(f"judge at {self.base_url} sent no chat completion: {str(payload)[:200]}") from error


def start_local_server(spec_name: str = DEFAULT_LOCAL_MODEL) -> tuple[str, str, Any]:
    """Serve a GGUF model spec's file with xllamacpp on 127.0.0.1 (a random port): (base URL, API key,
    the server object, which must be kept alive while the URL is used)."""
    from summarizer.gguf_models import find_packaged_gguf
    from summarizer.specs import resolve_spec

    try:
        spec = resolve_spec(spec_name)
    except (KeyError, ValueError) as error:
        raise JudgeError(f"judge model {spec_name!r}: {error}") from error
    options = spec.options
    path = (Path(options["model_path"]).expanduser() if options.get("model_path")
            else find_packaged_gguf(options.get("package", ""), options.get("filename", "")))
    if path is None or not path.is_file():
        raise JudgeError(f"judge model {spec_name!r} has no local GGUF file; pass --judge-url for a server")
    try:
        import xllamacpp
    except ImportError as error:
        raise JudgeError("the local judge needs xllamacpp (pip install xllamacpp), or pass --judge-url") from error
    api_key = secrets.token_hex(16)
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.hostnames = ["127.0.0.1"]
    params.n_ctx = LOCAL_CONTEXT_TOKENS
    params.n_parallel = 1
    params.n_predict = MAX_ANSWER_TOKENS
    params.sampling.temp = 0.0
    params.sampling.seed = 0
    params.warmup = False
    params.verbosity = 1  # errors only
    params.api_keys = [api_key]
    params.n_threads_http = 2
    threads = os.cpu_count() or 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xllamacpp.Server(params)
    return server.listening_address.rstrip("/") + "/v1", api_key, server


class JudgeScorer:
    def __init__(self, context: ScoringContext):
        from summarizer.paths import cache_dir

        options = context.options("judge")
        self.url = options.get("url")
        self.model = options.get("model") or DEFAULT_LOCAL_MODEL
        self.api_key_env = options.get("api_key_env") or "OPENAI_API_KEY"
        self.prompt_version = options.get("prompt_version") or PROMPT_VERSION
        self.prompts = load_prompts(self.prompt_version)
        self.dimensions = tuple(options.get("dimensions") or DIMENSIONS)
        unknown = set(self.dimensions) - set(DIMENSIONS)
        if unknown:
            raise JudgeError(f"unknown judge dimensions {sorted(unknown)}; known: {', '.join(DIMENSIONS)}")
        self.article_words = int(options.get("article_words") or MAX_ARTICLE_WORDS)
        self.cache = JudgeCache(Path(options.get("cache_dir") or cache_dir("judge")))
        self.stats: Counter = Counter(requests=0, cache_hits=0, parse_failures=0, scored=0)
        self._client: ChatClient | None = None
        self._server: Any = None
        # The cache key names the judge: a remote model by its name at its URL, the local one by its spec.
        self.model_key = f"{self.model}@{self.url}" if self.url else f"local:{self.model}"

    def headline_keys(self) -> list[str]:
        return [f"judge_{dimension}" for dimension in self.dimensions]

    def client(self) -> ChatClient:
        """Connects (or starts the local server) on the first answer not in the cache."""
        if self._client is None:
            if self.url:
                self._client = ChatClient(self.url, self.model, os.environ.get(self.api_key_env))
            else:
                base_url, api_key, self._server = start_local_server(self.model)
                self._client = ChatClient(base_url, self.model, api_key)
        return self._client

    def answer(self, dimension: str, article: str, summary: str) -> str:
        # The article as the prompt shows it: a different cut is a different question.
        shown = " ".join(article.split()[:self.article_words])
        path = self.cache.path(self.prompt_version, self.model_key, shown, summary, dimension)
        cached = self.cache.get(path)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return cached
        reply = self.client().complete(render_prompt(self.prompts[dimension], article, summary, self.article_words))
        self.stats["requests"] += 1
        self.cache.put(path, reply, {"prompt_version": self.prompt_version, "model": self.model_key,
                                     "dimension": dimension})
        return reply

    def score(self, item: ArticleInput) -> dict[str, float]:
        summary = "\n".join(item.bullets)
        row: dict[str, float] = {}
        failures = 0
        for dimension in self.dimensions:
            value = parse_score(self.answer(dimension, item.article, summary))
            if value is None:
                failures += 1
            else:
                row[f"judge_{dimension}"] = value
        self.stats["parse_failures"] += failures
        self.stats["scored"] += len(self.dimensions) - failures
        row["judge_parse_failures"] = float(failures)
        return row

    def describe(self) -> dict[str, Any]:
        return {"prompt_version": self.prompt_version, "prompts": str(PROMPT_DIR / self.prompt_version),
                "model": self.model, "url": self.url or "local xllamacpp server on 127.0.0.1 (packaged GGUF)",
                "decoding": {"temperature": 0.0, "max_tokens": MAX_ANSWER_TOKENS, "seed": 0},
                "dimensions": list(self.dimensions), "article_words_max": self.article_words,
                "cache_dir": str(self.cache.folder),
                "answers": dict(self.stats),
                "parse_failure_is": "a missing value for that dimension (never 0)"}


FAMILY = MetricFamily(
    name="judge",
    description="LLM judge, G-Eval-style 1-5 coherence/consistency/fluency/relevance "
                "(cached; parse failures counted)",
    needs=frozenset({"article"}),
    headline=tuple(Column(f"judge_{dimension}", f"judge {dimension}") for dimension in DIMENSIONS),
    create=JudgeScorer,
    default=False,
    scores_empty=False,
)
