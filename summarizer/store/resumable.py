"""Store-backed batch runs that survive being killed.

``run_with_store`` first stores the incoming articles (each committed as it arrives), then summarizes
the stored articles that have no summary yet for this model + parameters, committing every summary
the moment the pipeline yields it. A run killed with SIGKILL therefore loses at most the batch the
backend was working on; running the same command again picks up exactly the missing ones, and the
store's upsert key guarantees no article is summarized twice. Every run leaves a manifest (model,
parameters, package versions, counts, timings, errors) in the ``runs`` table.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from summarizer import __version__
from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend
from summarizer.bullets import DEFAULT_MAX_CHARS
from summarizer.pipeline import WINDOW, summarize_articles
from summarizer.provenance import OUTPUT_PACKAGES, installed_versions
from summarizer.store.db import DEFAULT_LEASE_S, Store, SummaryKey

# pipeline.summarize_articles' signature: (articles, backend, n_bullets, bullet_max_chars) -> one
# Summary per article, in their order. engines.ray_engine.ray_summarizer has it too.
Summarize = Callable[[Iterable[Article], Backend, int, int], Iterator[Summary]]


# Renew the run's lease this often while summaries arrive: far inside the lease, few extra writes.
LEASE_RENEW_S = DEFAULT_LEASE_S / 10


@dataclass
class StoreRunResult:
    run_id: int
    ingested: int = 0
    new_articles: int = 0
    summarized: int = 0
    failed: int = 0
    # (article id, error) for inputs that could not be read and for failed summaries, in order.
    errors: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def succeeded(self) -> int:
        return self.summarized - self.failed

    def counts(self) -> dict[str, int]:
        return {"ingested": self.ingested, "new_articles": self.new_articles, "summarized": self.summarized,
                "failed": self.failed, "errors": len(self.errors)}


def summary_key(backend: Backend, n_bullets: int, bullet_max_chars: int = DEFAULT_MAX_CHARS) -> SummaryKey:
    params = json.dumps({"n_bullets": n_bullets, "bullet_max_chars": bullet_max_chars}, sort_keys=True)
    return SummaryKey(model=backend.spec.name, model_spec=backend.spec.options_key(), params_key=params)


def package_versions() -> dict[str, str | None]:
    """Versions recorded in every run manifest: ours, Python's and those of the packages that shape outputs."""
    return {"summarizer": __version__, "python": platform.python_version(), **installed_versions(OUTPUT_PACKAGES)}


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """A one-line progress bar with rate and ETA on a terminal; a line every ``log_interval`` seconds
    in a log file (so redirected stderr does not fill with carriage returns); nothing when quiet."""

    def __init__(self, total: int, stream: IO[str] | None = None, quiet: bool = False,
                 label: str = "summarizing", redraw_interval: float = 0.2, log_interval: float = 10.0):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = redraw_interval if self.interactive else log_interval
        self.last_shown = float("-inf")
        self.shown_done = 0

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last_shown >= self.interval:
            self.last_shown = now
            self._show()

    def close(self) -> None:
        if self.quiet or not self.total:
            return
        if self.shown_done != self.done:
            self._show()
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        eta = format_duration((self.total - self.done) / rate) if rate > 0 else "?"
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:.2f} articles/s ETA {eta}")

    def _show(self) -> None:
        if self.quiet or not self.total:
            return
        self.shown_done = self.done
        self.stream.write(f"\r{self.line()}" if self.interactive else f"{self.line()}\n")
        self.stream.flush()


def store_articles(
    articles: Iterable[Article], store: Store, result: StoreRunResult, seen_hashes: set[str]
) -> None:
    """Store every article; an input that fails while being read ends ingest with a recorded error
    (the backlog already in the store is still summarized)."""
    iterator = iter(articles)
    while True:
        try:
            article = next(iterator)
        except StopIteration:
            return
        except (OSError, ValueError) as error:
            result.errors.append(("<ingest>", f"{type(error).__name__}: {error}"))
            return
        result.ingested += 1
        if article.error:
            result.errors.append((article.id, article.error))
        else:
            seen_hashes.add(article.content_hash)
        if store.add_article(article):
            result.new_articles += 1


def run_with_store(
    articles: Iterable[Article],
    backend: Backend,
    n_bullets: int,
    store: Store,
    *,
    bullet_max_chars: int = DEFAULT_MAX_CHARS,
    include_backlog: bool = True,
    retry_errors: bool = True,
    quiet: bool = False,
    progress_stream: IO[str] | None = None,
    summarize: Summarize | None = None,
) -> StoreRunResult:
    """Store ``articles``, then summarize what has no summary yet for this model and parameters.

    ``summarize`` turns the pending articles into summaries. Left ``None``, this process's ``backend``
    does it (loaded here, its load time reported as ``load_s``); a given function, such as
    ``ray_summarizer``, loads whatever it needs itself (Ray actors build their own models; the
    backend is then only read for its spec). Each summary is saved as it arrives, so an interrupted run keeps what
    was done.

    ``include_backlog`` also summarizes stored articles from earlier, interrupted runs (a feed that
    answers 304 brings no article, yet the previous run may have stopped half-way); without it only
    the articles given now are considered. ``retry_errors`` retries earlier failed summaries.
    """
    key = summary_key(backend, n_bullets, bullet_max_chars)
    params = {"backend": backend.spec.backend, "options": backend.spec.options, "n_bullets": n_bullets,
              "bullet_max_chars": bullet_max_chars, "include_backlog": include_backlog,
              "retry_errors": retry_errors}
    result = StoreRunResult(run_id=store.start_run(backend.spec.name, params, package_versions()))
    started = time.perf_counter()
    try:
        seen_hashes: set[str] = set()
        store_articles(articles, store, result, seen_hashes)
        result.timings["ingest_s"] = round(time.perf_counter() - started, 4)
        among = None if include_backlog else seen_hashes
        # Work is claimed in the store a window at a time, as the summarizer asks for it, so that
        # concurrent runs on one store split the pending articles instead of doing them twice.
        first = store.claim_pending(key, result.run_id, WINDOW, retry_errors=retry_errors, among=among)
        total = len(first) + store.claimable_count(key, result.run_id, retry_errors=retry_errors, among=among)
        if summarize is None:
            summarize = summarize_articles
            if first:
                loading = time.perf_counter()
                backend.ensure_loaded()
                result.timings["load_s"] = round(time.perf_counter() - loading, 4)
        summarizing = time.perf_counter()
        progress = Progress(total, stream=progress_stream, quiet=quiet)
        handed: deque[Article] = deque()
        renewed = time.monotonic()

        def claimed() -> Iterator[Article]:
            batch = first
            while batch:
                for article in batch:
                    handed.append(article)
                    yield article
                batch = store.claim_pending(key, result.run_id, WINDOW, retry_errors=retry_errors, among=among)

        # One Summary per article, in input order; nothing to start (no Ray) when nothing is pending.
        summaries = summarize(claimed(), backend, n_bullets, bullet_max_chars) if first else iter(())
        for summary in summaries:
            if not handed or handed[0].id != summary.id:
                raise RuntimeError(f"the summarizer returned summary '{summary.id}' out of order")
            article = handed.popleft()
            store.save_summary(summary, article.content_hash, key, run_id=result.run_id)
            if time.monotonic() - renewed > LEASE_RENEW_S:  # a long window keeps its claims
                store.renew_lease(result.run_id)
                renewed = time.monotonic()
            result.summarized += 1
            if summary.error:
                result.failed += 1
                result.errors.append((article.id, summary.error))
            progress.update()
        progress.close()
        if handed:
            raise RuntimeError(f"the summarizer returned no summary for {len(handed)} articles")
        summarize_s = time.perf_counter() - summarizing
        result.timings["summarize_s"] = round(summarize_s, 4)
        rate = result.summarized / summarize_s if summarize_s > 0 else 0.0
        result.timings["articles_per_s"] = round(rate, 4)
    except BaseException as error:
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        result.errors.append(("<run>", f"{type(error).__name__}: {error}"))
        _finish(store, result, started, status)
        raise
    finally:
        store.release_claims(result.run_id)
    _finish(store, result, started, "finished")
    return result


def _finish(store: Store, result: StoreRunResult, started: float, status: str) -> None:
    result.timings["total_s"] = round(time.perf_counter() - started, 4)
    store.finish_run(result.run_id, status=status, counts=result.counts(), timings=result.timings,
                     errors=result.errors)


def format_report(result: StoreRunResult, model: str) -> str:
    """The end-of-run lines for the CLI: counts, rate, and every error."""
    lines = [f"stored {result.new_articles} new of {result.ingested} articles; summarized "
             f"{result.succeeded}/{result.summarized} with {model} "
             f"({result.timings.get('articles_per_s', 0.0):.2f} articles/s, run {result.run_id})"]
    if result.errors:
        lines.append(f"{len(result.errors)} errors:")
        lines += [f"  {article_id}: {error}" for article_id, error in result.errors]
    return "\n".join(lines)
