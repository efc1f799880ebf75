"""Store-backed batch runs that survive being killed and share their work.

``run_with_store`` first stores the incoming articles (each committed as it arrives), then runs the
one loop of ``pipeline.run`` with the store as its sink: pending articles (no summary yet for this
model + settings) are claimed from the store a window at a time as the summarizer reads them, and
every summary is committed the moment it exists. Concurrent runs on one store therefore split the
pending work; a run killed with SIGKILL loses at most the batch the backend was working on, and
running the same command again picks up exactly the missing ones (the store's upsert key guarantees
no article gets two summaries). Every run leaves a manifest (model, parameters, package versions,
counts, timings, errors) in the ``runs`` table.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from summarizer import __version__
from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend
from summarizer.pipeline import RunSettings, RunStats, Summarizer, as_summarizer, run
from summarizer.provenance import OUTPUT_PACKAGES, installed_versions
from summarizer.specs import ModelSpec
from summarizer.store.db import DEFAULT_LEASE_S, Store, SummaryKey

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


def summary_key(spec: ModelSpec, settings: RunSettings) -> SummaryKey:
    """What identifies a summary in the store: the model spec with its options, and the settings
    that change the output."""
    params = json.dumps(settings.output_params(), sort_keys=True)
    return SummaryKey(model=spec.name, model_spec=spec.options_key(), params_key=params)


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


class ClaimedWork:
    """The pending articles, claimed from the store a window at a time as the summarizer reads them
    (iterate once). It remembers what it handed out, so that each summary, which comes back in
    input order, is saved under its own article."""

    def __init__(self, store: Store, key: SummaryKey, run_id: int, window: int, *, retry_errors: bool,
                 among: Collection[str] | None):
        self.store, self.key, self.run_id, self.window = store, key, run_id, window
        self.retry_errors, self.among = retry_errors, among
        self.handed: deque[Article] = deque()
        self.first = self._claim()
        # For the progress bar: what this run may still get (other runs may take some of it).
        self.total = len(self.first) + store.claimable_count(key, run_id, retry_errors=retry_errors, among=among)

    def _claim(self) -> list[Article]:
        return self.store.claim_pending(self.key, self.run_id, self.window, retry_errors=self.retry_errors,
                                        among=self.among)

    def __iter__(self) -> Iterator[Article]:
        batch = self.first
        while batch:
            for article in batch:
                self.handed.append(article)
                yield article
            batch = self._claim()

    def article_for(self, summary: Summary) -> Article:
        if not self.handed or self.handed[0].id != summary.id:
            raise RuntimeError(f"the summarizer returned summary '{summary.id}' out of order")
        return self.handed.popleft()

    def check_done(self) -> None:
        if self.handed:
            raise RuntimeError(f"the summarizer returned no summary for {len(self.handed)} articles")


class StoreSink:
    """``pipeline.run``'s sink for a store run: save each summary (committed at once), keep the
    run's claims alive, move the progress bar."""

    def __init__(self, store: Store, work: ClaimedWork, progress: Progress):
        self.store, self.work, self.progress = store, work, progress
        self.renewed = time.monotonic()

    def __call__(self, summary: Summary) -> None:
        article = self.work.article_for(summary)
        self.store.save_summary(summary, article.content_hash, self.work.key, run_id=self.work.run_id)
        if time.monotonic() - self.renewed > LEASE_RENEW_S:  # a long run keeps its claims
            self.store.renew_lease(self.work.run_id)
            self.renewed = time.monotonic()
        self.progress.update()


def run_with_store(
    articles: Iterable[Article],
    summarizer: Summarizer | Backend,
    store: Store,
    settings: RunSettings | None = None,
    *,
    include_backlog: bool = True,
    retry_errors: bool = True,
    quiet: bool = False,
    progress_stream: IO[str] | None = None,
) -> StoreRunResult:
    """Store ``articles``, then summarize what has no summary yet for this model and ``settings``.

    ``summarizer`` is a backend (loaded here only when work is pending, its load time reported as
    ``load_s``) or another Summarizer such as ``engines.ray_engine.RaySummarizer``, whose actors load
    their own models. Each summary is saved as it arrives, so an interrupted run keeps what was done.

    ``include_backlog`` also summarizes stored articles from earlier, interrupted runs (a feed that
    answers 304 brings no article, yet the previous run may have stopped half-way); without it only
    the articles given now are considered. ``retry_errors`` retries earlier failed summaries.
    """
    summarizer = as_summarizer(summarizer)
    settings = settings or RunSettings()
    spec = summarizer.spec
    key = summary_key(spec, settings)
    params = {"backend": spec.backend, "options": spec.options, **settings.to_record(),
              "include_backlog": include_backlog, "retry_errors": retry_errors}
    result = StoreRunResult(run_id=store.start_run(spec.name, params, package_versions()))
    stats = RunStats()
    started = time.perf_counter()
    try:
        seen_hashes: set[str] = set()
        store_articles(articles, store, result, seen_hashes)
        result.timings["ingest_s"] = round(time.perf_counter() - started, 4)
        work = ClaimedWork(store, key, result.run_id, settings.window, retry_errors=retry_errors,
                           among=None if include_backlog else seen_hashes)
        if work.first:  # nothing to load, no Ray to start, when nothing is pending
            progress = Progress(work.total, stream=progress_stream, quiet=quiet)
            run(work, summarizer, StoreSink(store, work, progress), settings, stats)
            progress.close()
            work.check_done()
        _record_summaries(result, stats)
    except BaseException as error:
        _record_summaries(result, stats)
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        result.errors.append(("<run>", f"{type(error).__name__}: {error}"))
        _finish(store, result, started, status)
        raise
    finally:
        store.release_claims(result.run_id)
    _finish(store, result, started, "finished")
    return result


def _record_summaries(result: StoreRunResult, stats: RunStats) -> None:
    result.summarized, result.failed = stats.articles, stats.failed
    result.errors += stats.errors
    if stats.load_seconds is not None:
        result.timings["load_s"] = round(stats.load_seconds, 4)
    summarize_s = max(stats.seconds - (stats.load_seconds or 0.0), 0.0)
    result.timings["summarize_s"] = round(summarize_s, 4)
    result.timings["articles_per_s"] = round(stats.articles / summarize_s if summarize_s > 0 else 0.0, 4)


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
