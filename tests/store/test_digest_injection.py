"""Issue 37 item 8: feed-supplied URLs and text cannot break out of the digest's markup."""

import json
import re

import pytest

from summarizer.articles import Article, Summary
from summarizer.store import Store, SummaryKey
from summarizer.store.digest import build_digest, render_html, render_jsonl, render_markdown, since_moment

KEY = SummaryKey(model="fake", model_spec='{"backend": "fake"}', params_key='{"n_bullets": 2}')
# A URL that closes the Markdown link destination and opens a script element.
BREAKOUT_URL = 'https://evil.example/a>"<script>alert(1)</script>'
ENCODED_BREAKOUT_URL = "https://evil.example/a%3E%22%3Cscript%3Ealert(1)%3C/script%3E"
HOSTILE_TITLE = "<img src=x onerror=alert(1)> ](javascript:alert(2)) [x"
HOSTILE_BULLET = "Officials said <script>alert(3)</script> on Monday [click](javascript:alert(4))."
NOT_WEB_URLS = ("javascript:alert(5)", "JavaScript:alert(6)", "data:text/html,<script>alert(7)</script>",
                " javascript:alert(8)")


def raw_tags(markdown: str) -> list[str]:
    """Unescaped ``<`` that would open an HTML tag in Markdown (autolinks to http(s) excepted)."""
    return re.findall(r"(?<!\\)<(?!https?://)[A-Za-z/!?]\S*", markdown)


def script_links(markdown: str) -> list[str]:
    """Links or autolinks (unescaped) to a javascript: or data: URL."""
    return re.findall(r"(?i)(?:(?<!\\)\]\(<?|(?<!\\)<)\s*(?:javascript|data):", markdown)


@pytest.fixture
def hostile_digest(tmp_path):
    entries = [("breakout", BREAKOUT_URL, HOSTILE_TITLE, None)]
    entries += [(f"scheme{index}", url, f"Scheme {index}", None) for index, url in enumerate(NOT_WEB_URLS)]
    entries.append(("failed", BREAKOUT_URL + "/failed", "Failed <b>one</b>", "error <script>alert(9)</script>"))
    with Store(tmp_path / "hostile.db") as store:
        for slug, url, title, error in entries:
            article = Article(id=slug, url=url, title=title, source="Hostile <feed>",
                              text=f"The {slug} story says the council met on Monday. It agreed the plan.")
            assert store.add_article(article)
            summary = Summary(id=slug, title=title, url=url, bullets=[] if error else [HOSTILE_BULLET],
                              model="fake", error=error)
            store.save_summary(summary, article.content_hash, KEY)
        yield build_digest(store, since_moment("1h"), title="Digest <script>alert(10)</script>")


def test_markdown_digest_percent_encodes_urls_and_escapes_text(hostile_digest):
    text = render_markdown(hostile_digest)
    assert raw_tags(text) == []  # every < is escaped, or opens an http(s) autolink
    assert f"](<{ENCODED_BREAKOUT_URL}>)" in text
    assert f"<{ENCODED_BREAKOUT_URL}/failed>" in text  # the failure's autolink
    assert script_links(text) == []
    assert "\\[click\\](javascript:alert(4))" in text  # an inert literal, not a link


def test_html_digest_links_only_web_urls_and_escapes_them(hostile_digest):
    page = render_html(hostile_digest)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert f'href="{ENCODED_BREAKOUT_URL}"' in page
    hrefs = [chunk.split('"', 1)[0] for chunk in page.split('href="')[1:]]
    assert hrefs and all(href.startswith("https://") for href in hrefs)


def test_jsonl_digest_stays_json_with_the_text_unchanged(hostile_digest):
    records = {record["id"]: record for record in map(json.loads, render_jsonl(hostile_digest).splitlines())}
    assert records["breakout"]["url"] == BREAKOUT_URL and records["breakout"]["title"] == HOSTILE_TITLE
    assert records["breakout"]["bullets"] == [HOSTILE_BULLET]
