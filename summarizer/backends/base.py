"""The backend contract, after simonw/llm: one small class per model family.

A backend declares a ``backend_id``, a pydantic ``Options`` model (validated from the spec's
``options``), capability flags, and one method, ``summarize_batch``, turning a batch of articles into
raw model texts. This base class adds everything around it once for all backends:
lazy loading, input-limit checks with map-reduce chunking for long articles, and per-article error
isolation when a batch fails.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from summarizer.articles import Article
from summarizer.specs import ModelSpec
from summarizer.text import split_sentences

log = logging.getLogger(__name__)

MAX_REDUCE_ROUNDS = 3
Item = TypeVar("Item")


class BackendOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class GeneratedText(str):
    """Model text that also says whether generation stopped at the token limit.

    ``hit_token_limit`` is True when the model was cut off by max_tokens, False when it stopped on its
    own, None when the backend cannot tell. Only a cut-off text may end in an unfinished sentence worth
    dropping. A str subclass, so every path that passes texts along (batches, retries, chunks) keeps it.
    """

    hit_token_limit: bool | None

    def __new__(cls, text: str, hit_token_limit: bool | None = None) -> GeneratedText:
        generated = super().__new__(cls, text)
        generated.hit_token_limit = hit_token_limit
        return generated


def hit_token_limit(text: str) -> bool | None:
    return getattr(text, "hit_token_limit", None)


@dataclass
class BackendOutput:
    """Raw model text for one article, with how it was produced."""

    article: Article
    text: str = ""
    path: str = "direct"
    n_chunks: int = 1
    truncated_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None
    details: dict[str, float] = field(default_factory=dict)
    # Whether the (final) generation stopped at the token limit; None = the backend cannot tell.
    hit_token_limit: bool | None = None


class Backend(ABC):
    backend_id: ClassVar[str]
    Options: ClassVar[type[BackendOptions]] = BackendOptions
    supports_batch: ClassVar[bool] = False
    needs_network: ClassVar[bool] = False
    # Extractive backends select sentences; abstractive ones generate and can map-reduce chunks.
    abstractive: ClassVar[bool] = True
    install_hint: ClassVar[str] = ""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.options = self.Options(**spec.options)
        self._loaded = False
        self.load_seconds = 0.0
        # Tokens cut per article id in the current batch, reported on each BackendOutput.
        self.truncations: dict[str, int] = {}

    # --- what each backend provides -------------------------------------------------------
    def load(self) -> None:  # noqa: B027 - optional hook: builtin methods need nothing loaded
        """Import heavy libraries and load weights. Called once, lazily."""

    @abstractmethod
    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str | Exception]:
        """Return one raw model text per article (bullets on separate lines or plain sentences).

        A backend that runs its articles independently (one request each) may put the exception an
        article raised in that article's place: only that article fails, and the others keep their
        text. Raising fails the whole batch, which is then rerun one article at a time.
        """

    def input_limit(self) -> int | None:
        """Largest article (in this backend's tokens) that fits in one pass; None = no limit."""
        return None

    def bullets_for(self, n_bullets: int) -> int:
        """How many bullets this model gives when ``n_bullets`` are asked (lead-3 gives at most 3 by design);
        fewer than this is a shortfall worth a warning."""
        return n_bullets

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def offline_status(self) -> tuple[bool, str]:
        """Whether this backend can run here without network, and why (for `summarizer models`)."""
        return (not self.needs_network, "builtin" if not self.needs_network else "needs network")

    def batch_size(self) -> int:
        return 8 if self.supports_batch else 1

    # --- shared machinery ----------------------------------------------------------------------
    def record_truncation(self, article_id: str, tokens_cut: int, limit: int) -> None:
        """Backends call this when an input must still be cut; it is logged and recorded, never silent."""
        log.warning("article %s: input exceeds the model limit of %d tokens; truncating %d tokens",
                    article_id, limit, tokens_cut)
        self.truncations[article_id] = self.truncations.get(article_id, 0) + tokens_cut

    def ensure_loaded(self) -> None:
        if not self._loaded:
            started = time.perf_counter()
            self.load()
            self.load_seconds = time.perf_counter() - started
            self._loaded = True

    def article_tokens(self, article: Article) -> int:
        return self.count_tokens(f"{article.title}\n{article.text}" if article.title else article.text)

    def summarize_many(self, articles: Iterable[Article], n_bullets: int) -> Iterator[BackendOutput]:
        """Summarize a stream of articles in batches; every article yields exactly one output."""
        self.ensure_loaded()
        pending: list[Article] = []
        for article in articles:
            pending.append(article)
            if len(pending) >= self.batch_size():
                yield from self._summarize_group(pending, n_bullets)
                pending = []
        if pending:
            yield from self._summarize_group(pending, n_bullets)

    def _summarize_group(self, articles: list[Article], n_bullets: int) -> list[BackendOutput]:
        limit = self.input_limit()
        outputs = [BackendOutput(article=article) for article in articles]
        direct = [o for o in outputs if limit is None or self.article_tokens(o.article) <= limit]
        long = [o for o in outputs if o not in direct]
        if direct:
            self._run_direct(direct, n_bullets)
        for output in long:
            self._run_chunked(output, n_bullets, limit or 0)
        if not self.abstractive:
            for output in outputs:
                output.path = "extractive" if output.path == "direct" else output.path
        return outputs

    def _run_direct(self, outputs: list[BackendOutput], n_bullets: int) -> None:
        texts, seconds, errors = self._generate_isolated([o.article for o in outputs], n_bullets)
        share = seconds / max(len(outputs), 1)
        for output, text, error in zip(outputs, texts, errors):
            output.text, output.error, output.seconds = text, error, share
            output.hit_token_limit = hit_token_limit(text)
            output.truncated_tokens = self.truncations.pop(output.article.id, 0)

    def _generate_isolated(
        self, articles: list[Article], n_bullets: int
    ) -> tuple[list[str], float, list[str | None]]:
        """Run a batch; if it fails, rerun one by one so one bad article does not sink the rest."""
        started = time.perf_counter()
        try:
            results = self.summarize_batch(articles, n_bullets)
            if len(results) != len(articles):
                raise RuntimeError(f"backend returned {len(results)} outputs for {len(articles)} articles")
            texts = ["" if isinstance(result, Exception) else result for result in results]
            errors = [describe_error(result) if isinstance(result, Exception) else None for result in results]
            return texts, time.perf_counter() - started, errors
        except Exception as batch_error:  # noqa: BLE001 - isolate below, errors are reported per article
            if len(articles) == 1:
                return [""], time.perf_counter() - started, [describe_error(batch_error)]
        texts, errors = [], []
        for article in articles:
            text, _, error = self._generate_isolated([article], n_bullets)
            texts.append(text[0])
            errors.append(error[0])
        return texts, time.perf_counter() - started, errors

    def _run_chunked(self, output: BackendOutput, n_bullets: int, limit: int) -> None:
        """Map-reduce: summarize each chunk, then summarize the chunk summaries together."""
        started = time.perf_counter()
        article = output.article
        # Reserve room for the title and the newline article_tokens() puts after it.
        reserve = self.count_tokens(f"{article.title}\n") if article.title else 0
        chunks = chunk_text(article.text, limit, self.count_tokens, reserve=reserve)
        output.path, output.n_chunks = "chunked", len(chunks)
        log.info("article %s: %d tokens > limit %d, map-reduce over %d chunks",
                 article.id, self.article_tokens(article), limit, len(chunks))
        document = article
        for _ in range(MAX_REDUCE_ROUNDS):
            chunk_articles = [replace(document, id=f"{article.id}#chunk{i}", text=chunk)
                              for i, chunk in enumerate(chunks)]
            texts, _, errors = self._generate_isolated(chunk_articles, n_bullets)
            failed = [e for e in errors if e]
            if len(failed) == len(errors):
                output.error = f"all {len(chunks)} chunks failed: {failed[0]}"
                break
            merged = "\n".join(t for t in texts if t.strip())
            document = replace(article, text=merged)
            if self.count_tokens(merged) <= limit:
                final, _, final_errors = self._generate_isolated([document], n_bullets)
                output.text, output.error = final[0], final_errors[0]
                output.hit_token_limit = hit_token_limit(final[0])
                break
            chunks = chunk_text(merged, limit, self.count_tokens, reserve=reserve)
        else:
            # Still too long after several rounds: keep the merged chunk summaries (bullets
            # post-processing trims them) rather than cutting the article silently.
            output.text = document.text
        output.seconds = time.perf_counter() - started


def run_concurrently(call: Callable[[Item], str], items: list[Item], workers: int) -> list[str | Exception]:
    """``call(item)`` for every item (an article, a request) on up to ``workers`` threads, in item order.

    For backends whose articles are independent requests (a server, an API): an article's exception
    takes its place in the result, so one failure does not make the others run again.
    """
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        futures = [pool.submit(call, item) for item in items]
    results: list[str | Exception] = []
    for future in futures:
        error = future.exception()
        if error is not None and not isinstance(error, Exception):
            raise error
        results.append(error if error is not None else future.result())
    return results


def describe_error(error: BaseException) -> str:
    """An article's error as recorded in its Summary: the exception's type and message."""
    return f"{type(error).__name__}: {error}"


def chunk_text(text: str, limit: int, count_tokens: Callable[[str], int], reserve: int = 0) -> list[str]:
    """Split text into chunks of at most ``limit - reserve`` tokens at sentence boundaries.

    A single sentence longer than the budget is split by words so no text is ever dropped.
    """
    budget = max(limit - reserve, 16)
    chunks: list[str] = []
    current: list[str] = []
    current_tokens = 0
    for sentence in split_sentences(text):
        pieces = [sentence]
        if count_tokens(sentence) > budget:
            words = sentence.split()
            step = max(budget // 2, 8)
            pieces = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        for piece in pieces:
            tokens = count_tokens(piece)
            if current and current_tokens + tokens > budget:
                chunks.append(" ".join(current))
                current, current_tokens = [], 0
            current.append(piece)
            current_tokens += tokens
    if current:
        chunks.append(" ".join(current))
    return chunks
