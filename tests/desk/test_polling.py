"""Background polling: the schedule (jitter, back-off) and one poll of a feed with the desk's poller."""

from __future__ import annotations

import random

import pytest

from summarizer.desk.polling import JITTER, MAX_BACKOFF_DOUBLINGS, Poller, next_delay
from summarizer.store import Store

INTERVAL_S = 1800.0


def test_next_delay_jitters_around_the_interval():
    rng = random.Random(7)
    delays = [next_delay(INTERVAL_S, 0, rng) for _ in range(200)]
    assert all(INTERVAL_S * (1 - JITTER) <= delay <= INTERVAL_S * (1 + JITTER) for delay in delays)
    assert len({round(delay) for delay in delays}) > 100  # spread, not one value


@pytest.mark.parametrize(("failures", "factor"), [(0, 1), (1, 2), (2, 4), (3, 8), (MAX_BACKOFF_DOUBLINGS + 3, 2 ** 5)])
def test_next_delay_backs_off_after_errors(failures, factor):
    class NoJitter(random.Random):
        def uniform(self, low: float, high: float) -> float:
            return 1.0

    assert next_delay(600.0, failures, NoJitter()) == 600.0 * factor


def test_backoff_is_capped_at_a_day_unless_the_interval_is_longer():
    class NoJitter(random.Random):
        def uniform(self, low: float, high: float) -> float:
            return 1.0

    assert next_delay(4 * 3600.0, 10, NoJitter()) == 24 * 3600.0
    assert next_delay(48 * 3600.0, 10, NoJitter()) == 48 * 3600.0


def test_poll_stores_and_summarizes_then_backs_off_a_failing_feed(tmp_path, fixture_server, private_hosts_allowed,
                                                                  shared_model):
    store_path = tmp_path / "news.db"
    poller = Poller(store_path, shared_model, interval_s=INTERVAL_S, rng=random.Random(1))
    good = poller.poll_feed(fixture_server + "/rss.xml")
    assert (good.new_articles, good.succeeded) == (3, 3)
    assert poller.status(fixture_server + "/rss.xml")["failures_in_a_row"] == 0
    again = poller.poll_feed(fixture_server + "/rss.xml")
    assert (again.new_articles, again.summarized) == (0, 0)  # nothing new, nothing summarized twice

    missing = fixture_server + "/gone.xml"
    for expected_failures in (1, 2):
        poller.poll_feed(missing)
        status = poller.status(missing)
        assert status["failures_in_a_row"] == expected_failures and status["last_result"].startswith("error")
    assert status["next_poll_in_s"] > INTERVAL_S * 4 * (1 - JITTER) - 5
    with Store(store_path) as store:
        assert "404" in store.feed_state(missing).last_error
        assert store.summary_count() == 3


def test_one_poll_at_a_time_per_feed(tmp_path, fixture_server, private_hosts_allowed, shared_model):
    poller = Poller(tmp_path / "news.db", shared_model, interval_s=None)
    url = fixture_server + "/atom.xml"
    poller._schedule(url)
    held = poller.locks[url]
    held.acquire()  # a poll of this feed is running
    try:
        assert poller.poll_feed(url) is None
    finally:
        held.release()
    result = poller.poll_feed(url)
    assert result is not None and result.new_articles == 2
