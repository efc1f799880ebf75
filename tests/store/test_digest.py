import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from summarizer.articles import Article
from summarizer.ingest.feeds import load_source_articles
from summarizer.pipeline import RunSettings
from summarizer.store import Store
from summarizer.store.digest import (
    build_digest,
    format_for_path,
    parse_duration,
    render_digest,
    render_html,
    render_jsonl,
    render_markdown,
    since_moment,
    write_digest,
)
from summarizer.store.resumable import run_with_store
from tests.browser import dump_dom, screenshot
from tests.fakes import fake_spec

TWO_BULLETS = RunSettings(n_bullets=2)
GAZETTE = "https://gazette.example/feed.xml"
SCIENCE = "https://science.example/atom.xml"


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("90m", timedelta(minutes=90)),
    ("1d12h", timedelta(hours=36)),
    ("2w", timedelta(weeks=2)),
    ("30s", timedelta(seconds=30)),
    (" 1.5H ", timedelta(minutes=90)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "24x", "-1h", "0h", "1h later"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_since_moment():
    now = datetime(2025, 3, 5, 12, 0, tzinfo=timezone.utc)
    assert since_moment("24h", now) == datetime(2025, 3, 4, 12, 0, tzinfo=timezone.utc)


def story(slug: str, feed: str, published: str, title: str | None = None, url: str | None = None) -> Article:
    return Article(
        id=slug, url=url or f"https://{feed.split('/')[2]}/{slug}", title=title or f"Story {slug}",
        text=f"The {slug} story reports that officials confirmed the plan on Monday. Work begins in May.",
        published=published, source=feed, metadata={"feed_url": feed},
    )


@pytest.fixture
def digest_store(tmp_path, fake_backend_registered):
    articles = [
        story("wind", GAZETTE, "2025-03-04T09:30:00+00:00"),
        story("buses", GAZETTE, "2025-03-05T18:00:00+00:00"),
        story("glacier", SCIENCE, "2025-03-05T08:00:00+00:00"),
        story("hostile", SCIENCE, "2025-03-01T08:00:00+00:00",
              title="<script>alert('x')</script> & Co", url="javascript:alert(1)"),
        story("broken", GAZETTE, "2025-03-03T08:00:00+00:00"),
    ]
    store = Store(tmp_path / "digest.db")
    store.record_feed_poll(GAZETTE, title="Harbor City Gazette")
    store.record_feed_poll(SCIENCE, title="Valley Science Notes")
    backend = fake_backend_registered.create_backend(fake_spec(fail_on=["broken"]))
    run_with_store(articles, backend, store, TWO_BULLETS, quiet=True)
    yield store
    store.close()


def recent_digest(store: Store):
    return build_digest(store, since_moment("24h"), title="Morning digest")


def test_digest_groups_by_feed_newest_first(digest_store):
    digest = recent_digest(digest_store)
    assert [group.source for group in digest.groups] == ["Harbor City Gazette", "Valley Science Notes"]
    assert [entry.article_id for entry in digest.groups[0].entries] == ["buses", "wind"]
    assert [entry.article_id for entry in digest.groups[1].entries] == ["glacier", "hostile"]
    assert [entry.article_id for entry in digest.failures] == ["broken"]
    assert digest.article_count == 4


def test_markdown_digest(digest_store):
    text = render_markdown(recent_digest(digest_store))
    assert text.startswith("# Morning digest")
    assert text.index("## Harbor City Gazette") < text.index("## Valley Science Notes")
    assert text.index("Story buses") < text.index("Story wind")
    assert "### [Story buses](<https://gazette.example/buses>)" in text
    assert "- The buses story reports that officials confirmed the plan on Monday." in text
    assert "\\<script\\>" in text and "<script>" not in text
    assert "](<javascript:" not in text
    assert "## Not summarized" in text and "fake failure on broken" in text


def test_html_digest_is_escaped_and_self_contained(digest_store):
    page = render_html(recent_digest(digest_store))
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in page
    assert 'href="javascript:' not in page
    assert '<a href="https://gazette.example/buses" rel="noopener noreferrer">Story buses</a>' in page
    assert " src=" not in page and "<link" not in page  # nothing loaded from elsewhere
    assert page.index("Harbor City Gazette") < page.index("Valley Science Notes")
    assert "<li>The glacier story reports that officials confirmed the plan on Monday.</li>" in page


def test_jsonl_digest(digest_store):
    records = [json.loads(line) for line in render_jsonl(recent_digest(digest_store)).splitlines()]
    assert [record["id"] for record in records] == ["buses", "wind", "glacier", "hostile", "broken"]
    assert records[0]["source"] == "Harbor City Gazette" and records[0]["model"] == "fake"
    assert records[0]["bullets"] and records[-1]["error"]


def test_since_excludes_older_summaries(digest_store):
    digest_store.conn.execute("UPDATE summaries SET created_at = '2020-01-01T00:00:00+00:00'")
    digest_store.conn.commit()
    digest = recent_digest(digest_store)
    assert digest.groups == [] and digest.failures == []
    assert "No articles were summarized" in render_html(digest)


def test_write_digest_and_formats(digest_store, tmp_path):
    out = tmp_path / "out" / "digest.md"
    digest = write_digest(digest_store, "24h", format_for_path(out), out)
    assert out.read_text(encoding="utf-8") == render_markdown(digest)
    assert [format_for_path(name) for name in ("a.html", "a.htm", "a.markdown", "a.jsonl", "a.txt", None)] == [
        "html", "html", "md", "jsonl", "md", "md"]
    with pytest.raises(ValueError, match="unknown digest format"):
        render_digest(digest, "pdf")


def test_local_file_content_appears_nowhere(feed_server, fetcher, tmp_path, fake_backend_registered):
    passwd = Path("/etc/passwd")
    markers = ["root:x:0:0"] + (passwd.read_text(errors="replace").splitlines()[:1] if passwd.is_file() else [])
    path = tmp_path / "passwd-feed.db"
    with Store(path) as store:
        backend = fake_backend_registered.create_backend(fake_spec())
        result = run_with_store(load_source_articles(feed_server.url("/passwd.xml"), fetcher, store),
                                backend, store, TWO_BULLETS, quiet=True)
        digest = recent_digest(store)
        outputs = [render_digest(digest, fmt) for fmt in ("md", "html", "jsonl")]
        outputs.append(repr(store.runs()) + repr(store.article_errors()) + repr(result))
    outputs.append(path.read_bytes().decode("latin-1"))
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        outputs.append(wal.read_bytes().decode("latin-1"))
    assert result.summarized == 1  # the teaser entry; the entry without text is an error
    for marker in markers:
        assert all(marker not in output for output in outputs)


@pytest.mark.slow
def test_html_digest_renders_in_headless_chromium(digest_store, tmp_path):
    page = tmp_path / "digest.html"
    write_digest(digest_store, "24h", "html", page)
    png = screenshot(page, tmp_path / "digest.png", tmp_path / "profile")
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    dom = dump_dom(page, tmp_path / "profile")
    assert "Morning digest" not in dom  # write_digest uses the default title
    assert "News digest" in dom and "Harbor City Gazette" in dom and "Valley Science Notes" in dom
    assert "The buses story reports that officials confirmed the plan on Monday." in dom
    assert "<script>alert" not in dom
