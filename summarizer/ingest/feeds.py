"""RSS 0.91/0.92/1.0/2.0 and Atom feeds (and single web pages) -> Articles.

Feeds are parsed with feedparser, but only after the bytes went through defusedxml: a feed that
declares entities (billion laughs, external entities pointing at local files) is refused before any
parser could expand them. feedparser only ever receives bytes in a BytesIO: given a string it would
fetch URLs or open local files by itself.

An entry that carries only a teaser (short, or ending in "…" / "Read more") is completed from its
linked page (downloaded with the Fetcher, several at once, main text extracted by trafilatura).
Links that are not http(s), such as ``file:///etc/passwd``, are never followed. A teaser whose page
could not be had is kept marked ``teaser_only`` (the store replaces it when a later poll gets the
page), or becomes an error record when it is too short to summarize.

With a Store, feeds are polled with conditional GET (ETag / Last-Modified of the previous poll); a
304 yields no article. The feed's validators are saved only after every entry was handed over, and
only when no linked page failed for a reason that may pass, so a run killed during ingest, or one
that met a timeout, fetches the whole feed again next time (the store deduplicates).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from summarizer.articles import Article
from summarizer.ingest.http import (
    ALLOWED_SCHEMES,
    RETRYABLE_STATUSES,
    ConnectionFailedError,
    Fetcher,
    FetchError,
    FetchResult,
    FetchTimeoutError,
    HTTPStatusError,
    check_scheme,
)
from summarizer.ingest.urls import canonical_url
from summarizer.ingest.webpage import article_from_response, html_to_text

if TYPE_CHECKING:  # the store imports ingest.urls: a runtime import here would be circular
    from summarizer.store import Store

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".xml", ".rss", ".atom")
FEED_CONTENT_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
    "application/x-rss+xml", "application/feed+json",
})
FEED_ROOT_ELEMENTS = frozenset({"rss", "feed", "rdf:rdf", "rdf"})
# Entries shorter than this are teasers: the linked page is fetched for the full text.
TEASER_MAX_CHARS = 400
# About one sentence: a teaser with fewer words cannot give a point of attention beyond its headline.
MIN_SUMMARIZABLE_WORDS = 20
TRUNCATION_MARKERS = ("…", "...", "[…]", "[...]", "read more", "continue reading", "more»", "more »")
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FIRST_ELEMENT = re.compile(r"<([A-Za-z][\w:.-]*)")


class FeedError(ValueError):
    """A feed could not be turned into entries (malformed, not a feed, unsafe)."""


class UnsafeFeedError(FeedError):
    pass


@dataclass(frozen=True)
class FeedSource:
    """One entry of a feeds list (configs/feeds.yaml)."""

    url: str
    name: str | None = None


def is_url(source: str) -> bool:
    return "://" in source or source.lower().startswith(("javascript:", "data:"))


def handles_source(source: str) -> bool:
    """Whether this module reads ``source``: an http(s) URL, or a local .xml/.rss/.atom file."""
    if is_url(source):
        return urlsplit(source).scheme.lower() in ALLOWED_SCHEMES
    return Path(source).suffix.lower() in FEED_SUFFIXES


# --- safety and parsing --------------------------------------------------------------------------------
class _DiscardTarget:
    """Parser target that keeps nothing: the safety check must not build a tree of a large feed."""

    def start(self, tag: str, attrib: dict[str, str]) -> None: ...
    def end(self, tag: str) -> None: ...
    def data(self, data: str) -> None: ...
    def close(self) -> None: ...


def _sniff_text(data: bytes) -> str:
    """Enough of a decoding to look for markup: ASCII-compatible bytes map 1:1 through latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("latin-1")


def check_xml_safety(data: bytes, source: str) -> None:
    """Refuse entity declarations (billion laughs, external entities) before any parser expands them.

    A DOCTYPE alone is allowed (RSS 0.91 feeds name Netscape's DTD); it is never loaded.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    parser = DefusedXMLParser(target=_DiscardTarget(), forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException as error:
        raise UnsafeFeedError(f"refusing feed {source}: it declares XML entities ({error}); entity "
                              f"declarations are how billion-laughs and local-file attacks work") from None
    except ParseError:
        # Malformed XML: feedparser's loose parser may still salvage it, so decide below. Expat stopped
        # at the error, so look for a declaration it did not reach.
        if _ENTITY_DECLARATION.search(_sniff_text(data)):
            raise UnsafeFeedError(f"refusing feed {source}: it declares XML entities") from None


def parse_feed(data: bytes, source: str, base_url: str | None = None, content_type: str = "") -> Any:
    """feedparser's result for feed bytes, after the safety check; FeedError when there is no feed."""
    import feedparser

    check_xml_safety(data, source)
    headers = {"content-type": content_type or "application/xml"}
    if base_url:
        headers["content-location"] = base_url
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    if not parsed.entries:
        if parsed.bozo:
            problem = parsed.get("bozo_exception")
            raise FeedError(f"{source} is not a well-formed RSS/Atom feed: {problem}")
        if not parsed.version:
            raise FeedError(f"{source} is not an RSS or Atom feed")
    elif parsed.bozo:
        log.warning("feed %s is malformed but readable (%s)", source, parsed.get("bozo_exception"))
    return parsed


def looks_like_feed(content: bytes, content_type: str = "") -> bool:
    """Whether a response is a feed (by its root element, else its content type) or a web page."""
    head = _COMMENT.sub("", _sniff_text(content[:8192]))
    head = re.sub(r"<[?!][^>]*>", "", head)
    match = _FIRST_ELEMENT.search(head)
    if match:
        root = match.group(1).lower()
        if root in FEED_ROOT_ELEMENTS:
            return True
        if root == "html":
            return False
    return content_type in FEED_CONTENT_TYPES


# --- entries -> articles -------------------------------------------------------------------------------
def _iso_time(entry: Any) -> str | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        moment = entry.get(name)
        if moment:
            return datetime(*moment[:6], tzinfo=timezone.utc).isoformat()
    return None


def _is_web_link(link: str | None) -> bool:
    return bool(link) and urlsplit(link).scheme.lower() in ALLOWED_SCHEMES


def is_teaser(text: str) -> bool:
    stripped = text.rstrip().lower()
    return len(stripped) < TEASER_MAX_CHARS or stripped.endswith(TRUNCATION_MARKERS)


def entry_to_article(entry: Any, feed_title: str, feed_key: str, index: int) -> Article:
    """One feed entry as an Article (teaser not yet completed)."""
    link = (entry.get("link") or "").strip() or None
    web_link = link if _is_web_link(link) else None
    contents = [html_to_text(part.get("value", "")) for part in entry.get("content", [])]
    content = max(contents, key=len, default="")
    summary = html_to_text(entry.get("summary", ""))
    warnings: list[str] = []
    if link and not web_link:
        warnings.append(f"entry link {link!r} is not http(s); it was not followed")
    return Article(
        id=canonical_url(web_link) if web_link else (entry.get("id") or f"{feed_key}#{index}"),
        text=content if len(content) >= len(summary) else summary,
        title=html_to_text(entry.get("title", "")),
        # Linked without tracking parameters (utm_*, fbclid...) or fragment.
        url=canonical_url(web_link) if web_link else None,
        published=_iso_time(entry),
        source=feed_title,
        metadata={"feed_url": feed_key, "link": link, "warnings": warnings},
    )


@dataclass
class PollProgress:
    """What a feed's entries left undone: with pages that failed for a reason that may pass (timeout,
    refused connection, 5xx), the feed's validators are not saved, so the next poll sees the entries
    again instead of a 304 and completes their teasers."""

    pages_to_retry: int = 0


def _may_pass(error: FetchError) -> bool:
    if isinstance(error, HTTPStatusError):
        return error.status in RETRYABLE_STATUSES
    return isinstance(error, FetchTimeoutError | ConnectionFailedError)


def complete_teaser(article: Article, page: FetchResult | FetchError | None,
                    progress: PollProgress | None = None) -> Article:
    """Replace a teaser by its linked page's main text (``page``: the fetch of ``article.url``, or None
    when there is no web link). When that fails the article keeps its teaser, marked ``teaser_only``
    with the reason as a warning (a later poll that gets the page replaces it in the store); a teaser
    too short to summarize becomes an error record that says so."""
    warnings = article.metadata.setdefault("warnings", [])
    if page is None:
        problem = "no http(s) link to fetch the full text from"
    elif isinstance(page, FetchError):
        problem = f"full text not fetched: {page}"
        if progress is not None and _may_pass(page):
            progress.pages_to_retry += 1
    else:
        extracted = article_from_response(page)
        if not extracted.error and len(extracted.text) > len(article.text):
            article.text = extracted.text
            article.published = article.published or extracted.published
            article.metadata["full_text_from"] = article.url
            return article
        problem = f"the linked page gave no longer text ({extracted.error or 'shorter than the teaser'})"
    words = len(article.text.split())
    if words < MIN_SUMMARIZABLE_WORDS:
        shown = f"{words} words" if words else "no text"
        article.error = f"teaser too short to summarize ({shown}) and {problem}"
    else:
        article.metadata["teaser_only"] = True
        warnings.append(problem)
    log.warning("article %s: %s", article.id, article.error or f"teaser only: {problem}")
    return article


def feed_articles(parsed: Any, feed_key: str, fetcher: Fetcher,
                  progress: PollProgress | None = None) -> Iterator[Article]:
    """The feed's entries as Articles, in feed order; teasers are completed from their pages, which
    are fetched concurrently (``Fetcher.fetch_all``)."""
    feed_title = html_to_text(parsed.feed.get("title", "")) or feed_key
    articles = [entry_to_article(entry, feed_title, feed_key, index) for index, entry in enumerate(parsed.entries)]
    teasers = [is_teaser(article.text) for article in articles]
    pages = fetcher.fetch_all(article.url for article, teaser in zip(articles, teasers)
                              if teaser and article.url)
    try:
        for article, teaser in zip(articles, teasers):
            if teaser:
                article = complete_teaser(article, next(pages) if article.url else None, progress)
            yield article
    finally:
        pages.close()


# --- sources -------------------------------------------------------------------------------------------
def _poll(url: str, fetcher: Fetcher, store: Store | None) -> FetchResult:
    state = store.feed_state(url) if store else None
    try:
        return fetcher.fetch(url, etag=state.etag if state else None,
                             last_modified=state.last_modified if state else None)
    except FetchError as error:
        if store:
            store.record_feed_poll(url, error=str(error))
        raise


def _articles_from_feed_bytes(data: bytes, feed_key: str, fetcher: Fetcher, store: Store | None,
                              result: FetchResult | None = None) -> Iterator[Article]:
    try:
        parsed = parse_feed(data, feed_key, base_url=result.final_url if result else None,
                            content_type=result.content_type if result else "")
    except FeedError as error:
        if store:
            store.record_feed_poll(feed_key, error=str(error))
        raise
    if store:
        store.ensure_feed(feed_key)
    progress = PollProgress()
    yield from feed_articles(parsed, feed_key, fetcher, progress)
    if store:
        complete = progress.pages_to_retry == 0
        if not complete:
            log.info("%s: %d linked pages to fetch again next poll", feed_key, progress.pages_to_retry)
        store.record_feed_poll(feed_key, title=html_to_text(parsed.feed.get("title", "")) or None,
                               etag=result.etag if result and complete else None,
                               last_modified=result.last_modified if result and complete else None)


def _url_articles(url: str, fetcher: Fetcher, store: Store | None, accept_pages: bool) -> Iterator[Article]:
    check_scheme(url)
    result = _poll(url, fetcher, store)
    if result.not_modified:
        log.info("%s not modified since the last poll", url)
        if store:
            store.record_feed_poll(url, etag=result.etag, last_modified=result.last_modified)
        return
    if accept_pages and not looks_like_feed(result.content, result.content_type):
        yield article_from_response(result)
        return
    yield from _articles_from_feed_bytes(result.content, url, fetcher, store, result)


def _file_articles(source: str, fetcher: Fetcher, store: Store | None) -> Iterator[Article]:
    path = Path(source)
    yield from _articles_from_feed_bytes(path.read_bytes(), str(path.resolve()), fetcher, store)


def load_feed_articles(source: str, fetcher: Fetcher, store: Store | None = None) -> Iterator[Article]:
    """Articles of the feed at ``source`` (an http(s) URL or a local file).

    Raises FetchError (an OSError) or FeedError (a ValueError) with a clear message when the feed
    cannot be read; with a store the error is also recorded as the feed's ``last_error``.
    """
    if is_url(source):
        yield from _url_articles(source, fetcher, store, accept_pages=False)
    else:
        yield from _file_articles(source, fetcher, store)


def load_source_articles(source: str, fetcher: Fetcher | None = None, store: Store | None = None
                         ) -> Iterator[Article]:
    """The ingest entry point for URLs and feed files: a feed yields its entries, a web page one article.

    Without a fetcher a default one is made (and closed when the iterator is exhausted).
    """
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher()
    try:
        if is_url(source):
            yield from _url_articles(source, fetcher, store, accept_pages=True)
        else:
            yield from _file_articles(source, fetcher, store)
    finally:
        if own_fetcher:
            fetcher.close()


def iter_source_articles(sources: Iterable[str], fetcher: Fetcher | None = None, store: Store | None = None
                         ) -> Iterator[Article]:
    """Articles from several URLs / feed files; a source that cannot be read becomes one error record
    (kept out of the store's articles: the error is the feed's ``last_error``) and the others go on."""
    for source in sources:
        try:
            yield from load_source_articles(source, fetcher, store)
        except (OSError, FeedError) as error:
            log.warning("cannot read %s: %s", source, error)
            # The messages of FetchError and FeedError already name the URL or file.
            yield Article(id=source, text="", source=source, error=str(error))


# --- adapters in the shapes of summarizer.ingest's FILE_READERS and PREFIX_OPENERS ----------------------
def _allow_private_hosts(options: object) -> bool | None:
    return getattr(options, "allow_private_hosts", None)


def read_feed_file(path: Path, label: str, options: object = None) -> Iterator[Article]:
    """Reader for local .xml/.rss/.atom files: a file that is no readable feed becomes one error record."""
    # The fetcher is for teaser entries whose full text is on the web.
    with Fetcher(allow_private_hosts=_allow_private_hosts(options)) as fetcher:
        try:
            yield from load_feed_articles(str(path), fetcher)
        except (OSError, FeedError) as error:
            yield Article(id=label, text="", source=label, error=f"cannot read feed '{label}': {error}")


def open_url(spec: str, options: object = None) -> Iterator[Article]:
    """Opener for http:// and https:// inputs (feed or web page), without a store: no conditional GET."""
    return _iter_with_own_fetcher([spec], Fetcher(allow_private_hosts=_allow_private_hosts(options)))


def _iter_with_own_fetcher(sources: list[str], fetcher: Fetcher) -> Iterator[Article]:
    with fetcher:
        yield from iter_source_articles(sources, fetcher)


def load_feed_list(path: str | Path) -> list[FeedSource]:
    """Read a feeds list: ``feeds:`` with entries ``{url, name}`` (or bare URL strings)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("feeds", []) if isinstance(data, dict) else data
    sources = []
    for entry in entries:
        try:
            source = FeedSource(url=entry) if isinstance(entry, str) else FeedSource(**entry)
        except TypeError:
            raise ValueError(f"{path}: a feed entry is a URL or {{url, name}}, not {entry!r}") from None
        check_scheme(source.url)
        sources.append(source)
    return sources
