"""GGUF chat models run in-process by ik_llama.cpp, a llama.cpp fork with faster CPU kernels.

Same GGUF files, options and prompts as the ``llama-cpp`` backend (xllamacpp); the difference is speed
on CPUs. Measured with SmolLM2 135M (Q8_0) on a 2-core AVX-512 machine, one article at a time:
prompt processing about 1.5x and decoding about 1.7x xllamacpp's (`summarizer bench`, eval/bench.md).
Articles are generated one at a time (see summarizer.backends.ik_native for why not in parallel).

Shared prompt prefix: every article's prompt starts with the same instructions. Their KV cache is
computed once, on its own, and kept; each article then only processes its own tokens, from the same
position every time. The computation of an article therefore never depends on which article came
before (greedy output is reproducible), unlike a cache keyed on the previous prompt.

Sampling (temperature > 0) is done here in numpy: repeat penalty over the last 64 tokens, top-k,
top-p, temperature, then a draw from a generator seeded with ``seed`` for each article.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from summarizer.articles import Article
from summarizer.backends.gguf_base import OVERHEAD_BULLETS, GgufBackend, GgufOptions
from summarizer.backends.ik_native import INSTALL_HINT, IkSession
from summarizer.hub import ModelUnavailableError
from summarizer.prompts import build_messages
from summarizer.specs import ModelSpec

log = logging.getLogger(__name__)

# llama.cpp's default window for repeat_penalty (penalty_last_n).
PENALTY_WINDOW = 64
# Weight types this build computes wrongly: SmolLM2's Q4_1 file gave unrelated text ("The article is about
# the 2014 England vs. Australia match" for a football-transfer story) where xllamacpp and transformers
# agree, with and without repacking. Re-encoded as Q8_0 the same file matches xllamacpp's text.
UNRELIABLE_TYPES = {"Q4_1"}
# Stands in for the article when the shared prompt prefix is found (no real text contains it).
ARTICLE_MARKER = "@@summarizer-article-marker@@"


class IkLlamaCppOptions(GgufOptions):
    flash_attn: bool = Field(True, description="ik_llama.cpp's CPU flash attention (faster prompt processing)")
    repack: bool = Field(True, description="repack quantized weights into interleaved rows at load time")
    reuse_prefix: bool = Field(True, description="compute the instructions shared by all prompts once")
    n_batch: int = Field(512, ge=32, description="prompt tokens evaluated per step")


@dataclass
class Prefix:
    """The instructions every prompt for one bullet count starts with, as tokens."""

    n_bullets: int
    tokens: list[int]


class Sampler:
    """Picks the next token: argmax when greedy, otherwise llama.cpp's usual filters and a seeded draw."""

    def __init__(self, options: IkLlamaCppOptions):
        self.options = options
        self.rng = np.random.default_rng(options.seed)

    def pick(self, logits: np.ndarray, history: list[int]) -> int:
        options = self.options
        if options.repeat_penalty != 1.0 and history:
            logits = logits.copy()
            recent = np.unique(np.asarray(history[-PENALTY_WINDOW:]))
            values = logits[recent]
            logits[recent] = np.where(values > 0, values / options.repeat_penalty, values * options.repeat_penalty)
        if options.temperature <= 0:
            return int(np.argmax(logits))
        candidates = np.argsort(-logits, kind="stable")
        if options.top_k > 0:
            candidates = candidates[: options.top_k]
        scores = logits[candidates].astype(np.float64)
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        if options.top_p < 1.0:
            keep = int(np.searchsorted(np.cumsum(probabilities), options.top_p) + 1)
            candidates, scores = candidates[:keep], scores[:keep]
        scaled = np.exp((scores - scores.max()) / options.temperature)
        return int(candidates[self.rng.choice(len(candidates), p=scaled / scaled.sum())])


class IkLlamaCppBackend(GgufBackend):
    backend_id = "ik-llama-cpp"
    Options = IkLlamaCppOptions
    install_hint = INSTALL_HINT
    runtime_module = "ik_llama_cpp"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.options: IkLlamaCppOptions
        self._session: IkSession | None = None
        self._prefix: Prefix | None = None
        # Whether the cache holds exactly the prefix (computed on its own) and nothing else.
        self._prefix_cached = False
        self._prompt_overhead: int | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def load(self) -> None:
        from summarizer.gguf_convert import weight_types

        path = self.weights_file()
        options = self.options
        try:
            unreliable = sorted(weight_types(path) & UNRELIABLE_TYPES)
        except ValueError as error:
            raise ModelUnavailableError(f"ik_llama.cpp could not load {path}: {error}") from error
        if unreliable:
            raise ModelUnavailableError(
                f"{path.name} holds {', '.join(unreliable)} weights, which ik_llama.cpp computes wrongly in this "
                f"build (garbled text measured); set `requantize: Q8_0` in spec '{self.spec.name}'"
            )
        try:
            self._session = IkSession(path, n_ctx=options.n_ctx, n_threads=options.n_threads,
                                      flash_attn=options.flash_attn, repack=options.repack, n_batch=options.n_batch)
        except RuntimeError as error:
            raise ModelUnavailableError(str(error)) from error
        self._prefix, self._prefix_cached, self._prompt_overhead = None, False, None

    def close(self) -> None:
        """Free the model and context; a later call loads them again."""
        if self._session is not None:
            self._session.close()
        self._session = None
        self._loaded = False

    @property
    def session(self) -> IkSession:
        self.ensure_loaded()
        assert self._session is not None
        return self._session

    # --- tokens ----------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.session.tokenize(text, add_special=False)) if text else 0

    def prompt_tokens(self, article: Article, n_bullets: int) -> list[int]:
        return self.session.tokenize(self.session.chat_prompt(build_messages(article, n_bullets)), add_special=True)

    def prompt_overhead(self) -> int:
        if self._prompt_overhead is None:
            self._prompt_overhead = len(self.prompt_tokens(Article(id="", text=""), OVERHEAD_BULLETS))
        return self._prompt_overhead

    def prefix_for(self, n_bullets: int) -> Prefix:
        """The prompt's tokens before the article, for this bullet count (found once, then kept)."""
        if self._prefix is None or self._prefix.n_bullets != n_bullets:
            prompt = self.session.chat_prompt(build_messages(Article(id="", text=ARTICLE_MARKER), n_bullets))
            head = prompt[: prompt.index(ARTICLE_MARKER)]
            self._prefix = Prefix(n_bullets, self.session.tokenize(head, add_special=True))
            self._prefix_cached = False
        return self._prefix

    # --- generation ------------------------------------------------------------------------------
    def generate(self, article: Article, n_bullets: int, *, ignore_eos: bool = False) -> str:
        """Text for one article; ``ignore_eos`` always writes ``max_tokens`` tokens (for benchmarks)."""
        return self.session.detokenize(self.generate_tokens(article, n_bullets, ignore_eos=ignore_eos)).strip()

    def generate_tokens(self, article: Article, n_bullets: int, *, ignore_eos: bool = False) -> list[int]:
        """Token ids generated for one article (the end-of-generation token excluded)."""
        session, options = self.session, self.options
        tokens = self.prompt_tokens(article, n_bullets)
        if len(tokens) + options.max_tokens > options.n_ctx:
            raise ValueError(
                f"article {article.id}: prompt of {len(tokens)} tokens + max_tokens {options.max_tokens} exceeds "
                f"n_ctx {options.n_ctx}"
            )
        start = self._reuse_prefix(tokens, n_bullets) if options.reuse_prefix else 0
        if start == 0:
            session.clear()
            self._prefix_cached = False
        # Prompt and generated tokens in one list: the repeat penalty looks back across both.
        sampler, history = Sampler(options), list(tokens)
        try:
            session.evaluate(tokens[start:], start)
            while True:
                token = sampler.pick(session.logits(), history)
                if session.is_end(token) and not ignore_eos:
                    break
                history.append(token)
                if len(history) - len(tokens) >= options.max_tokens:
                    break
                session.evaluate([token], len(history) - 1)
        finally:
            self._keep_only_prefix()
        return history[len(tokens):]

    def _reuse_prefix(self, tokens: list[int], n_bullets: int) -> int:
        """Position to start evaluating ``tokens`` from: after the cached prefix when they start with it."""
        prefix = self.prefix_for(n_bullets).tokens
        if len(prefix) >= len(tokens) or tokens[: len(prefix)] != prefix:
            # Tokens merged across the prefix's end (possible in principle): process the whole prompt.
            return 0
        if not self._prefix_cached:
            self.session.clear()
            self.session.evaluate(prefix, 0)
            self._prefix_cached = True
        return len(prefix)

    def _keep_only_prefix(self) -> None:
        if self._prefix_cached and self._prefix is not None:
            self._prefix_cached = self.session.forget_from(len(self._prefix.tokens))
        else:
            self.session.clear()

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str]:
        return [self.generate(article, n_bullets) for article in articles]
