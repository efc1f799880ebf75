"""Titles, bullets, feed names and URLs carrying <script>, <img onerror> and javascript: render inert in
the desk, its Atom/RSS feeds and the Markdown digest."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import feedparser
import pytest

from summarizer.cli.main import main as cli_main
from tests.browser import dump_dom

PAYLOAD_MARKERS = ("alert(", "onerror")


class ActiveContent(HTMLParser):
    """Collects what a browser would run: script elements, on* attributes, javascript:/data: links."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        for name in ("href", "src", "action"):
            value = (attributes.get(name) or "").strip().lower()
            if value.startswith(("javascript:", "data:", "vbscript:")):
                self.links.append(value)


def active_content(html: str) -> ActiveContent:
    parser = ActiveContent()
    parser.feed(html)
    return parser


def assert_inert(html: str) -> None:
    found = active_content(html)
    assert found.scripts in ([], [{"src": "/static/highlight.js"}]), found.scripts
    assert found.handlers == [] and found.links == []


def hostile_pages(desk) -> dict[str, str]:
    with desk.client() as client:
        articles = client.get("/api/articles").json()["articles"]
        pages = {"/": client.get("/").text, "/feeds": client.get("/feeds").text,
                 "/?q=strike": client.get("/", params={"q": "strike"}).text}
        for article in articles:
            pages[f"/articles/{article['id']}"] = client.get(f"/articles/{article['id']}").text
    return pages


def test_hostile_store_really_carries_the_payloads(hostile_desk):
    with hostile_desk.client() as client:
        articles = client.get("/api/articles").json()["articles"]
    titles = " ".join(article["title"] for article in articles)
    bullets = " ".join(bullet for article in articles for bullet in article["bullets"])
    assert "<script>alert(\"title\")</script>" in titles and "<img src=x onerror=" in titles
    assert "<script>" in bullets and "onerror" in bullets
    assert any(article["url"] == "javascript:alert('url')" for article in articles)
    assert any("<script>" in article["feed_name"] for article in articles)


def test_desk_pages_escape_everything(hostile_desk):
    for path, html in hostile_pages(hostile_desk).items():
        assert_inert(html)
        assert "<img src=x" not in html and '<script>alert("' not in html, path
    article_pages = [html for path, html in hostile_pages(hostile_desk).items() if path.startswith("/articles/")]
    assert any("&lt;script&gt;alert(&#34;bullet&#34;)&lt;/script&gt;" in html for html in article_pages)
    assert any('<span class="inert-url">javascript:alert(&#39;url&#39;)</span>' in html for html in article_pages)


def test_desk_pages_are_inert_in_chromium(hostile_desk, tmp_path):
    """What the browser built from the pages: no element from a payload, only our own script."""
    for path in hostile_pages(hostile_desk):
        dom = dump_dom(hostile_desk.base + path, tmp_path / "profile")
        assert "</html>" in dom
        assert_inert(dom)
        assert not re.search(r"<img\b", dom), path


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feeds_escape_everything(hostile_desk, fmt):
    with hostile_desk.client() as client:
        response = client.get(f"/feed.{fmt}")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert "<script>" not in response.text and "<img" not in response.text
    for entry in parsed.entries:
        assert not (entry.get("link") or "").lower().startswith("javascript:")
        content = entry.content[0].value if "content" in entry else entry.description
        # The entry's HTML is a list of escaped bullets: a reader shows the payload as text.
        assert_inert(content)
        assert "<img" not in content and "<script" not in content
    assert any("&lt;script&gt;" in (entry.content[0].value if "content" in entry else entry.description)
               for entry in parsed.entries)


def test_markdown_digest_is_inert(hostile_desk, tmp_path):
    out = tmp_path / "digest.md"
    assert cli_main(["digest", "--store", str(hostile_desk.store_path), "--since", "3650d", "--out", str(out)]) == 0
    markdown = out.read_text(encoding="utf-8")
    assert "alert(" in markdown  # the hostile entries are there...
    # ...and every "<" that is not a link's <http(s)://...> is backslash-escaped, so it is text.
    assert not re.search(r"(?<!\\)<(?!https?://)", markdown)
    markdown_it = pytest.importorskip("markdown_it")
    # CommonMark with raw HTML allowed, as most renderers are: the payloads still come out as text.
    rendered = markdown_it.MarkdownIt("commonmark").render(markdown)
    assert_inert(rendered)
    assert "<img" not in rendered and "<script" not in rendered and "&lt;script&gt;" in rendered
