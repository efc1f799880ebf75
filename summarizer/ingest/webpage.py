"""Web pages -> Articles: main-text extraction with trafilatura, and HTML fragments -> plain text.

trafilatura drops navigation, footers, cookie banners and comment threads and keeps the article body;
it only ever sees HTML we already downloaded (it is never given a URL to fetch itself).
"""

from __future__ import annotations

import html
import logging
import re
from html.parser import HTMLParser

from summarizer.articles import Article
from summarizer.ingest.http import Fetcher, FetchResult
from summarizer.ingest.urls import canonical_url
from summarizer.text import normalize_whitespace

log = logging.getLogger(__name__)

# Elements whose end starts a new paragraph in the plain text.
BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "section", "article", "header", "footer", "figure", "figcaption", "table", "tr", "hr", "dd", "dt",
})
# Elements whose content is never prose.
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
_BLANK_LINES = re.compile(r"\n{2,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skip_depth = max(self.skip_depth - 1, 0)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's summary or content), one paragraph per line."""
    if "<" not in fragment:
        return normalize_whitespace(html.unescape(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    text = normalize_whitespace("".join(collector.parts))
    return _BLANK_LINES.sub("\n", text)


def drop_leading_title(text: str, title: str) -> str:
    """Remove the headline when the extracted text starts with it: the title travels separately, and a
    headline left in the body would be picked as a "sentence" by extractive models."""
    first_line, _, rest = text.partition("\n")
    if title and first_line.strip().casefold() == title.casefold():
        return rest.strip()
    return text


def extract_article(page_html: str | bytes, url: str) -> Article:
    """The main text of a downloaded page as an Article; ``error`` is set when none is found."""
    import trafilatura

    document = trafilatura.bare_extraction(page_html, url=url, with_metadata=True, include_comments=False,
                                           include_tables=False)
    text = normalize_whitespace(document.text or "") if document is not None else ""
    title = normalize_whitespace(document.title or "") if document is not None else ""
    text = drop_leading_title(text, title)
    if not text:
        return Article(id=url, text="", url=url, source=url,
                       error=f"no article text found on the page {url}")
    return Article(
        id=url,
        text=text,
        title=title,
        url=url,
        published=document.date or None,
        source=(document.sitename or "").strip() or url,
    )


def article_from_response(result: FetchResult) -> Article:
    """Extract the article of an HTML response; anything that is not HTML is an error record."""
    if result.content_type and "html" not in result.content_type:
        url = canonical_url(result.final_url)
        return Article(id=url, text="", url=url, source=url,
                       error=f"{result.final_url} is {result.content_type}, not an HTML page")
    # Without a charset header, hand over the bytes: trafilatura reads <meta charset> itself.
    page = result.text() if result.charset else result.content
    return extract_article(page, canonical_url(result.final_url))


def load_webpage(url: str, fetcher: Fetcher) -> Article:
    """Fetch one article page and extract it; fetch failures raise FetchError."""
    return article_from_response(fetcher.fetch(url))
