"""Batch runner: articles -> backend -> bullets -> output records, with per-article errors.

Steps (after huggingface/evaluate's evaluator): load_articles -> prepare_inputs -> run_backend (timed)
-> postprocess_bullets. Every article given yields exactly one Summary, in input order; an article
that cannot be summarized yields a Summary with ``error`` set, and the batch goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend, BackendOutput
from summarizer.bullets import DEFAULT_MAX_CHARS, to_bullets
from summarizer.language import article_language
from summarizer.text import split_sentences

log = logging.getLogger(__name__)

# Articles handed to the backend at a time; the backend batches further inside.
WINDOW = 64
# What to do when a generative model says nothing usable: "lead" gives the article's first sentences,
# flagged in the record's path and warning; "none" records an error (evaluation uses this, so a
# model's score is its own).
FALLBACKS = ("lead", "none")


@dataclass
class RunStats:
    articles: int = 0
    failed: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # Articles per identified language (summarizer.language); the report shows them when they mix.
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def succeeded(self) -> int:
        return self.articles - self.failed

    def record(self, summary: Summary) -> None:
        self.articles += 1
        if summary.language:
            self.languages[summary.language] = self.languages.get(summary.language, 0) + 1
        if summary.error:
            self.failed += 1
            self.errors.append((summary.id, summary.error))
        elif summary.warning:
            self.warnings.append((summary.id, summary.warning))


def prepare_inputs(article: Article) -> str | None:
    """Return why an article cannot go to a model, or None when it can."""
    if article.error:
        return article.error
    if not article.text.strip():
        return "article has no text"
    return None


def error_summary(article: Article, model: str, error: str | None) -> Summary:
    """A Summary carrying the article's identity and, when given, the reason it has no bullets."""
    return Summary(
        id=article.id, title=article.title, url=article.url, bullets=[], model=model, error=error,
        source=article.source, published=article.published, reference_bullets=article.reference_bullets,
        language=article_language(article), encoder=article.metadata.get("sentence_encoder"),
    )


def postprocess_bullets(
    output: BackendOutput, backend: Backend, n_bullets: int, bullet_max_chars: int, fallback: str = "lead"
) -> Summary:
    article = output.article
    summary = error_summary(article, backend.spec.name, output.error)
    summary.path, summary.n_chunks = output.path, output.n_chunks
    summary.truncated_tokens = output.truncated_tokens
    summary.timings = {"generate_s": round(output.seconds, 4)}
    if output.error:
        return summary
    summary.raw_output = output.text
    summary.bullets = to_bullets(
        output.text, n_bullets, max_chars=bullet_max_chars, drop_unfinished_last=backend.abstractive
    )
    if not summary.bullets and fallback == "lead":
        lead = "\n".join(split_sentences(article.text)[:n_bullets])
        summary.bullets = to_bullets(lead, n_bullets, max_chars=bullet_max_chars, drop_unfinished_last=False)
        summary.path += "+fallback-lead"
        summary.warning = "the model produced no usable bullet; these are the article's lead sentences"
    if not summary.bullets:
        summary.error = "the model produced no usable bullet (raw output kept in raw_output)"
    return summary


def summarize_articles(
    articles: Iterable[Article],
    backend: Backend,
    n_bullets: int,
    bullet_max_chars: int = DEFAULT_MAX_CHARS,
    fallback: str = "lead",
) -> Iterator[Summary]:
    """Yield one Summary per article, in input order."""
    if fallback not in FALLBACKS:
        raise ValueError(f"unknown fallback '{fallback}'; choose one of {', '.join(FALLBACKS)}")
    window: list[Article] = []
    for article in articles:
        window.append(article)
        if len(window) >= WINDOW:
            yield from _summarize_window(window, backend, n_bullets, bullet_max_chars, fallback)
            window = []
    if window:
        yield from _summarize_window(window, backend, n_bullets, bullet_max_chars, fallback)


def _summarize_window(
    window: list[Article],
    backend: Backend,
    n_bullets: int,
    bullet_max_chars: int,
    fallback: str,
) -> Iterator[Summary]:
    problems = [prepare_inputs(article) for article in window]
    ready = [article for article, problem in zip(window, problems) if problem is None]
    # summarize_many yields in input order, batch by batch: pulling lazily streams each summary out
    # as soon as its batch is done instead of waiting for the whole window.
    outputs = backend.summarize_many(ready, n_bullets)
    for article, problem in zip(window, problems):
        if problem is not None:
            summary = error_summary(article, backend.spec.name, problem)
        else:
            output = next(outputs)
            if output.article is not article:
                raise RuntimeError(f"backend {backend.backend_id} returned outputs out of order")
            summary = postprocess_bullets(output, backend, n_bullets, bullet_max_chars, fallback)
        if summary.error or summary.warning:
            # The run report lists every failed article; the log line is for -v runs.
            log.info("article %s: %s", article.id, summary.error or summary.warning)
        yield summary


def run(
    articles: Iterable[Article],
    backend: Backend,
    n_bullets: int,
    sink: Callable[[Summary], None],
    bullet_max_chars: int = DEFAULT_MAX_CHARS,
    fallback: str = "lead",
) -> RunStats:
    """Summarize everything, hand each Summary to ``sink`` as soon as it exists, return the stats."""
    stats = RunStats()
    started = time.perf_counter()
    backend.ensure_loaded()
    stats.load_seconds = backend.load_seconds
    for summary in summarize_articles(articles, backend, n_bullets, bullet_max_chars, fallback=fallback):
        sink(summary)
        stats.record(summary)
    stats.seconds = time.perf_counter() - started
    return stats
