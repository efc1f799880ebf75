"""Background polling: the desk's feeds polled on a schedule with the code of `summarizer run --feeds
--store` (``iter_source_articles`` into ``run_with_store``), one poll at a time per feed.

Each feed is due ``interval`` after its last poll, stretched or shrunk by up to ``JITTER`` so that
many feeds (and many desks) do not hit their servers in step. A poll that ends with the feed's
``last_error`` set doubles the wait (up to ``MAX_BACKOFF``), a good poll resets it. The feed list is
re-read from the store before every round, so feeds added or removed on /feeds take effect at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer.desk.model import SharedModel
from summarizer.desk.queries import active_feed_urls
from summarizer.ingest.feeds import iter_source_articles
from summarizer.ingest.http import Fetcher
from summarizer.store import Store
from summarizer.store.resumable import StoreRunResult, run_with_store

log = logging.getLogger(__name__)

JITTER = 0.1
# An erroring feed is retried after interval * 2**failures, at most this many doublings, and never
# later than MAX_BACKOFF_S: a feed that is down for a day is still tried a few times that day.
MAX_BACKOFF_DOUBLINGS = 5
MAX_BACKOFF_S = 24 * 3600.0
# The first round starts within this many seconds of start-up (jittered), not a whole interval later.
FIRST_POLL_WITHIN_S = 5.0


def next_delay(interval_s: float, failures: int, rng: random.Random) -> float:
    """Seconds until the next poll of a feed that has failed ``failures`` times in a row."""
    backoff = min(interval_s * 2 ** min(failures, MAX_BACKOFF_DOUBLINGS), max(MAX_BACKOFF_S, interval_s))
    return backoff * rng.uniform(1 - JITTER, 1 + JITTER)


@dataclass
class FeedSchedule:
    url: str
    next_due: float  # time.monotonic() seconds
    failures: int = 0
    polling: bool = False
    last_result: str | None = None

    def to_json(self, now: float) -> dict[str, Any]:
        return {"next_poll_in_s": None if self.polling else round(max(0.0, self.next_due - now), 1),
                "failures_in_a_row": self.failures, "polling": self.polling, "last_result": self.last_result}


class Poller:
    """Polls the store's active web feeds; ``interval_s`` None means on request only (the /feeds button)."""

    def __init__(self, store_path: str | Path, model: SharedModel, interval_s: float | None,
                 fetcher_factory: Callable[[], Fetcher] = Fetcher, rng: random.Random | None = None):
        self.store_path = Path(store_path)
        self.model = model
        self.interval_s = interval_s
        self.fetcher_factory = fetcher_factory
        self.rng = rng or random.Random()
        self.schedules: dict[str, FeedSchedule] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    # --- one poll ----------------------------------------------------------------------------------
    def _schedule(self, url: str) -> FeedSchedule:
        with self.guard:
            if url not in self.schedules:
                first = self.rng.uniform(0, FIRST_POLL_WITHIN_S)
                self.schedules[url] = FeedSchedule(url=url, next_due=time.monotonic() + first)
                self.locks[url] = threading.Lock()
            return self.schedules[url]

    def poll_feed(self, url: str) -> StoreRunResult | None:
        """Poll one feed now and summarize what is new; None when a poll of it is already running."""
        schedule = self._schedule(url)
        lock = self.locks[url]
        if not lock.acquire(blocking=False):
            return None
        schedule.polling = True
        try:
            settings = self.model.settings
            with Store(self.store_path) as store, self.fetcher_factory() as fetcher:
                try:
                    result = run_with_store(iter_source_articles([url], fetcher, store), self.model, store,
                                            settings.run_settings, quiet=True)
                    state = store.feed_state(url)
                    error = state.last_error if state else None
                except Exception as failure:  # noqa: BLE001 - a poll must never take the server down
                    log.exception("poll of %s failed", url)
                    store.record_feed_poll(url, error=f"poll failed: {type(failure).__name__}: {failure}")
                    result, error = None, str(failure)
            schedule.failures = schedule.failures + 1 if error else 0
            schedule.last_result = (f"error: {error}" if error else
                                    f"{result.new_articles} new, {result.succeeded} summarized" if result else "")
            if self.interval_s:
                schedule.next_due = time.monotonic() + next_delay(self.interval_s, schedule.failures, self.rng)
            return result
        finally:
            schedule.polling = False
            lock.release()

    def status(self, url: str) -> dict[str, Any] | None:
        schedule = self.schedules.get(url)
        return schedule.to_json(time.monotonic()) if schedule else None

    # --- the schedule ------------------------------------------------------------------------------
    def feed_urls(self) -> list[str]:
        with Store(self.store_path) as store:
            return active_feed_urls(store.conn)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due feeds until ``stop`` is set; each poll runs in a worker thread."""
        while not stop.is_set():
            urls = await asyncio.to_thread(self.feed_urls)
            for url in urls:
                schedule = self._schedule(url)
                if stop.is_set():
                    return
                if self.interval_s and schedule.next_due <= time.monotonic() and not schedule.polling:
                    await asyncio.to_thread(self.poll_feed, url)
            due = [self.schedules[url].next_due for url in urls if url in self.schedules]
            wait_s = max(0.5, min(due) - time.monotonic()) if due and self.interval_s else 60.0
            # Wake at least every minute so feeds added on /feeds are picked up soon.
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(wait_s, 60.0))
            except asyncio.TimeoutError:
                pass
