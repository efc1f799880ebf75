"""Atom/RSS rendering by hand-checkable cases: escaping, links, ids, order."""

from __future__ import annotations

from datetime import datetime, timezone

import feedparser

from summarizer.desk.syndication import FeedInfo, bullets_html, entry_id, render_atom, render_rss
from summarizer.store import StoredSummary

INFO = FeedInfo(title="Desk <&> test", feed_id="urn:summarizer:feed:test",
                updated=datetime(2025, 3, 5, 12, 0, tzinfo=timezone.utc), self_url="http://127.0.0.1:8000/feed.atom")


def entry(article_id: str, published: str | None, url: str | None = None, title: str = "A title",
          bullets: tuple[str, ...] = ("First point.", "Second point.")) -> StoredSummary:
    return StoredSummary(article_id=article_id, title=title, url=url, source="Gazette", feed_url=None,
                         published=published, fetched_at="2025-03-05T10:00:00+00:00", bullets=list(bullets),
                         model="lead-3", error=None, created_at="2025-03-05T11:00:00+00:00")


def test_bullets_become_an_escaped_list():
    assert bullets_html(entry("a", None, bullets=("x < y & z", '"quoted"'))) == (
        "<ul><li>x &lt; y &amp; z</li><li>&quot;quoted&quot;</li></ul>")


def test_atom_entries_newest_first_with_links_only_for_web_urls():
    entries = [entry("old", "2025-03-01T08:00:00+00:00", url="https://news.example/old"),
               entry("new", "2025-03-04T08:00:00+00:00", url="javascript:alert(1)", title="<b>bold</b>"),
               entry("undated", None, url="data:text/html,hi")]
    parsed = feedparser.parse(render_atom(entries, INFO).encode())
    assert not parsed.bozo and parsed.feed.title == "Desk <&> test"
    # "undated" sorts by its fetch time (2025-03-05), the newest.
    assert [item.id for item in parsed.entries] == [entry_id(entries[2]), entry_id(entries[1]), entry_id(entries[0])]
    assert parsed.entries[1].title == "<b>bold</b>"  # text, not markup
    # No <link> at all (feedparser then shows the id as the link, which is a URN, not a script).
    assert "links" not in parsed.entries[0] and "links" not in parsed.entries[1]
    assert not any(item.get("link", "").startswith(("javascript:", "data:")) for item in parsed.entries)
    assert parsed.entries[2].link == "https://news.example/old"
    assert parsed.entries[2].content[0].value == "<ul><li>First point.</li><li>Second point.</li></ul>"
    assert parsed.entries[2].published == "2025-03-01T08:00:00Z"


def test_rss_has_the_same_entries():
    entries = [entry("one", "2025-03-01T08:00:00+00:00", url="https://news.example/one"),
               entry("two", "2025-03-02T08:00:00+00:00")]
    parsed = feedparser.parse(render_rss(entries, INFO).encode())
    assert not parsed.bozo
    assert [item.id for item in parsed.entries] == [entry_id(entries[1]), entry_id(entries[0])]
    assert parsed.entries[1].link == "https://news.example/one"
    assert parsed.entries[0].description.startswith("<ul><li>First point.")


def test_entry_ids_are_stable_and_distinct():
    assert entry_id(entry("a", None)) == entry_id(entry("a", "2025-01-01T00:00:00+00:00"))
    assert entry_id(entry("a", None)) != entry_id(entry("b", None))
    assert entry_id(entry("a", None)).startswith("urn:summarizer:article:")
