"""The desk's queries and the FTS5 table the store keeps in sync (migration 2)."""

from __future__ import annotations

import pytest

from summarizer.articles import Article, Summary
from summarizer.desk import queries
from summarizer.store import Store, SummaryKey

KEY = SummaryKey(model="lead-3", model_spec="spec", params_key='{"n_bullets": 3}')


def article(slug: str, text: str, published: str = "2025-03-04T09:00:00+00:00", error: str | None = None) -> Article:
    return Article(id=slug, url=f"https://news.example/{slug}", title=f"Story {slug}", text=text,
                   published=published, error=error, metadata={"feed_url": "https://news.example/feed.xml"})


def search(store: Store, words: str) -> list[str]:
    page = queries.list_articles(store.conn, queries.ArticleFilters(q=words))
    return [item["source_id"] for item in page.articles]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "news.db") as opened:
        yield opened


def test_search_covers_title_text_and_bullets_and_follows_updates(store):
    wind = article("https://news.example/wind", "Harbor City opened a quay for turbines.")
    store.add_article(wind)
    store.save_summary(Summary(id=wind.id, title="", url=None, bullets=["A zeppelin hangar reopens."], model="m"),
                       wind.content_hash, KEY)
    assert search(store, "quay") == ["https://news.example/wind"]
    assert search(store, "story") == ["https://news.example/wind"]  # the title
    assert search(store, "zeppelin") == ["https://news.example/wind"]  # a bullet
    assert search(store, "QUAY turbines") == ["https://news.example/wind"]
    assert search(store, "quay airship") == []  # every word must occur


def test_search_sees_an_error_record_replaced_by_the_text(store):
    broken = article("late", "", error="page timed out")
    assert not store.add_article(broken)
    assert search(store, "lighthouse") == []
    fixed = article("late", "The old lighthouse gets a new lamp.")
    assert store.add_article(fixed)
    store.save_summary(Summary(id="late", title="", url=None, bullets=["New lamp."], model="m"),
                       fixed.content_hash, KEY)
    assert search(store, "lighthouse") == ["late"]


def test_existing_articles_are_indexed_by_the_migration(tmp_path):
    import sqlite3

    from summarizer import store as store_module

    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(store_module.MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    connection.execute("INSERT INTO articles (id, content_hash, title, text, fetched_at) VALUES"
                       " ('old', 'h1', 'Old story', 'A walrus was seen.', '2025-01-01T00:00:00+00:00')")
    connection.commit()
    connection.close()
    with Store(path) as upgraded:
        rows = upgraded.conn.execute("SELECT article_hash FROM article_search WHERE article_search MATCH 'walrus'")
        assert [row[0] for row in rows] == ["h1"]


def test_filters_reject_unreadable_values():
    with pytest.raises(queries.QueryError, match="since"):
        queries.parse_filters({"since": "yesterday-ish"})
    assert queries.parse_filters({"since": "24h"}).since == "24h"
    assert queries.fts_query('quay" OR NEAR(x') == '"quay" "OR" "NEAR" "x"'


def test_removed_feeds_are_not_polled_and_register_does_not_bring_them_back(store):
    feed_id = queries.add_feed(store.conn, "https://news.example/feed.xml")
    assert queries.active_feed_urls(store.conn) == ["https://news.example/feed.xml"]
    assert queries.remove_feed(store.conn, feed_id)
    queries.register_feeds(store.conn, [("https://news.example/feed.xml", "News")])
    assert queries.active_feed_urls(store.conn) == [] and queries.list_feeds(store.conn) == []
    assert queries.add_feed(store.conn, "https://news.example/feed.xml") == feed_id  # re-added on purpose
    assert queries.active_feed_urls(store.conn) == ["https://news.example/feed.xml"]
    assert not queries.remove_feed(store.conn, 999)


def test_search_forgets_bullets_of_a_deleted_summary(store):
    wind = article("wind", "Harbor City opened a quay for turbines.")
    store.add_article(wind)
    store.save_summary(Summary(id=wind.id, title="", url=None, bullets=["A zeppelin hangar reopens."], model="m"),
                       wind.content_hash, KEY)
    assert search(store, "zeppelin") == ["wind"]
    with store.conn:  # what the store does when a teaser's summary is superseded by the full text's
        store.conn.execute("DELETE FROM summaries WHERE article_hash = ?", (wind.content_hash,))
    assert search(store, "zeppelin") == [] and search(store, "quay") == []  # unsummarized articles are not listed
