import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from summarizer.articles import Article, Summary
from summarizer.store import MIGRATIONS, Store, StoreError, SummaryKey, canonical_url

KEY = SummaryKey(model="fake", model_spec='{"backend": "fake", "options": {}}', params_key='{"n_bullets": 3}')
OTHER_KEY = SummaryKey(model="fake", model_spec='{"backend": "fake", "options": {}}', params_key='{"n_bullets": 5}')


def article(index: int, url: str | None = None, text: str | None = None, **kw) -> Article:
    return Article(id=f"a{index}", url=url if url is not None else f"https://news.example/{index}",
                   title=f"Title {index}", text=text or f"Body of article {index}. It has two sentences.", **kw)


def summary(a: Article, bullets: list[str] | None = None, error: str | None = None) -> Summary:
    return Summary(id=a.id, title=a.title, url=a.url, bullets=bullets or [], model="fake", error=error)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "digest.db") as opened:
        yield opened


@pytest.mark.parametrize(("url", "expected"), [
    ("https://News.Example.com/a/b/?utm_source=rss&utm_medium=x&id=7#top", "https://news.example.com/a/b?id=7"),
    ("HTTP://example.com:80/story/", "http://example.com/story"),
    ("https://example.com:8443/s?fbclid=abc", "https://example.com:8443/s"),
    ("https://example.com/", "https://example.com"),
    ("https://example.com/Path/Case", "https://example.com/Path/Case"),
    ("file:///etc/passwd", "file:///etc/passwd"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_schema_is_migrated_and_in_wal_mode(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"feeds", "articles", "summaries", "runs"} <= tables
    with Store(path) as reopened:  # applying the migrations again would fail on CREATE TABLE
        assert reopened.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.db"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    connection.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_articles_are_deduplicated_by_url_and_content(store):
    first = article(1, "https://news.example/1/?utm_source=feed")
    same_url = article(2, "https://NEWS.example/1#comments", text="Updated text of the same story.")
    same_text = article(3, "https://mirror.example/story", text=first.text)
    same_text.title = first.title
    new = store.add_articles([first, same_url, same_text, article(4)])
    assert [a.id for a in new] == ["a1", "a4"]
    assert store.article_count() == 2
    assert store.add_articles([first]) == []  # seen before: not new again


def test_pending_articles_and_idempotent_summaries(store):
    articles = [article(i) for i in range(3)]
    store.add_articles(articles)
    assert [a.id for a in store.pending_articles(KEY)] == ["a0", "a1", "a2"]
    store.save_summary(summary(articles[0], ["One fact here."]), articles[0].content_hash, KEY)
    store.save_summary(summary(articles[0], ["Another take."]), articles[0].content_hash, KEY)
    assert store.summary_count(KEY) == 1  # a rerun never duplicates, and a good summary is kept
    assert [a.id for a in store.pending_articles(KEY)] == ["a1", "a2"]
    assert len(store.pending_articles(OTHER_KEY)) == 3  # other parameters: nothing is done yet
    (stored,) = store.summaries_since(datetime.now(timezone.utc) - timedelta(minutes=1))
    assert stored.bullets == ["One fact here."]


def test_failed_summary_is_retried_and_replaced(store):
    (a,) = store.add_articles([article(0)])
    store.save_summary(summary(a, error="model crashed"), a.content_hash, KEY)
    assert [p.id for p in store.pending_articles(KEY)] == ["a0"]
    assert store.pending_articles(KEY, retry_errors=False) == []
    store.save_summary(summary(a, ["It worked the second time."]), a.content_hash, KEY)
    assert store.summary_count(KEY) == 1 and store.pending_articles(KEY) == []


def test_pending_articles_round_trip_their_fields(store):
    original = article(0, published="2025-03-04T09:30:00+00:00", source="Gazette",
                       metadata={"feed_url": "https://news.example/feed.xml", "warnings": ["teaser kept"]})
    store.add_articles([original])
    (restored,) = store.pending_articles(KEY)
    assert (restored.id, restored.title, restored.text, restored.url, restored.published, restored.source) == (
        original.id, original.title, original.text, original.url, original.published, original.source)
    assert restored.metadata == {"feed_url": "https://news.example/feed.xml", "warnings": ["teaser kept"]}
    assert restored.content_hash == original.content_hash


def test_unreadable_article_is_recorded_then_replaced(store):
    broken = article(0, text="")
    broken.text, broken.error = "", "full text not fetched: HTTP 404"
    assert store.add_articles([broken]) == []
    assert store.article_errors() == [("a0", "full text not fetched: HTTP 404")]
    assert store.pending_articles(KEY) == []
    assert [a.id for a in store.add_articles([article(0)])] == ["a0"]
    assert store.article_errors() == [] and len(store.pending_articles(KEY)) == 1


def test_error_without_url_is_not_stored(store):
    assert store.add_articles([Article(id="feed.xml", text="", error="cannot read")]) == []
    assert store.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


def test_summaries_since_filters_by_time_and_model(store):
    a, b = store.add_articles([article(0), article(1)])
    store.save_summary(summary(a, ["Old bullet sentence."]), a.content_hash, KEY)
    store.save_summary(summary(b, ["New bullet sentence."]), b.content_hash, KEY)
    store.conn.execute("UPDATE summaries SET created_at = '2020-01-01T00:00:00+00:00' WHERE article_hash = ?",
                       (a.content_hash,))
    store.conn.commit()
    recent = store.summaries_since(datetime.now(timezone.utc) - timedelta(hours=24))
    assert [s.article_id for s in recent] == ["a1"]
    assert store.summaries_since(datetime(2019, 1, 1, tzinfo=timezone.utc), model="other") == []


def test_one_summary_per_article_prefers_success(store):
    (a,) = store.add_articles([article(0)])
    store.save_summary(summary(a, ["Five bullets version."]), a.content_hash, OTHER_KEY)
    store.save_summary(summary(a, error="failed"), a.content_hash, KEY)
    (chosen,) = store.summaries_since(datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert chosen.error is None and chosen.bullets == ["Five bullets version."]


def test_feed_poll_state(store):
    url = "https://news.example/feed.xml"
    assert store.feed_state(url) is None
    store.record_feed_poll(url, title="News", etag='"v1"', last_modified="Wed, 05 Mar 2025 10:00:00 GMT")
    store.record_feed_poll(url, error="HTTP 503 Service Unavailable")
    state = store.feed_state(url)
    assert (state.title, state.etag, state.last_error) == ("News", '"v1"', "HTTP 503 Service Unavailable")
    store.record_feed_poll(url, etag='"v2"')
    state = store.feed_state(url)
    assert (state.title, state.etag, state.last_modified, state.last_error) == ("News", '"v2"', None, None)


def test_run_manifest(store):
    run_id = store.start_run("fake", {"n_bullets": 3}, {"summarizer": "0.1.0", "torch": None})
    assert store.runs()[0]["status"] == "running"
    store.finish_run(run_id, counts={"summarized": 2}, timings={"total_s": 0.5}, errors=[("a1", "boom")])
    (manifest,) = store.runs()
    assert manifest["status"] == "finished" and manifest["finished_at"]
    assert manifest["params"] == {"n_bullets": 3} and manifest["versions"]["summarizer"] == "0.1.0"
    assert manifest["counts"] == {"summarized": 2} and manifest["errors"] == [["a1", "boom"]]


def test_claims_split_work_and_lapse_with_the_lease(store):
    store.add_articles([article(i) for i in range(5)])
    first_run = store.start_run("fake", {}, {})
    second_run = store.start_run("fake", {}, {})
    taken = store.claim_pending(KEY, first_run, 3)
    assert [a.id for a in taken] == ["a0", "a1", "a2"]
    assert [a.id for a in store.claim_pending(KEY, second_run, 10)] == ["a3", "a4"]
    assert store.claim_pending(KEY, first_run, 10) == []  # nothing left, nothing twice
    # Another key is other work: the claims are per model + parameters.
    assert len(store.claim_pending(OTHER_KEY, second_run, 10)) == 5
    # A failed summary is not retried by the run that wrote it while it holds its claim.
    store.save_summary(summary(taken[0], error="boom"), taken[0].content_hash, KEY, run_id=first_run)
    assert store.claim_pending(KEY, first_run, 10) == []
    # The first run's lease lapses (a run on another machine that stopped): its claims are free again,
    # except the summarized-with-error one is retried too.
    store.renew_lease(first_run, lease_s=-1)
    assert [a.id for a in store.claim_pending(KEY, second_run, 10)] == ["a0", "a1", "a2"]
    store.release_claims(second_run)
    assert store.claimable_count(KEY, first_run) == 5  # released: free for any run (a0's error retried)
