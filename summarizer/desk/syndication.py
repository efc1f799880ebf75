"""Atom 1.0 and RSS 2.0 feeds of summaries: one entry per summarized article, its bullets as the
entry's content, linked to the original article. The desk's /feed.atom and ``summarizer digest
--format atom|rss`` both render through here, so a reader sees the same entries either way.

The XML is built with ElementTree, which escapes every feed-supplied string; the bullets travel as
escaped HTML (``<ul><li>``), each bullet escaped before it is put in the list. Only http(s) URLs
become links: a ``javascript:`` article link is left out of the entry.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    # Types only: the digest module (in the store package) imports this one.
    from summarizer.store import StoredSummary
    from summarizer.store.digest import Digest

ATOM_NS = "http://www.w3.org/2005/Atom"
SYNDICATION_FORMATS = ("atom", "rss")
GENERATOR = "summarizer"


@dataclass(frozen=True)
class FeedInfo:
    """What describes the feed itself. ``feed_id`` must stay the same for the same feed (readers key
    on it); ``self_url`` and ``site_url`` are absolute URLs when the feed is served, else None."""

    title: str
    feed_id: str
    updated: datetime
    self_url: str | None = None
    site_url: str | None = None
    subtitle: str | None = None


def is_web_url(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0].strip().lower() in ("http", "https") and "://" in url


def entry_id(entry: StoredSummary) -> str:
    """A stable id per article: the same URN from the desk and from the digest command."""
    return "urn:summarizer:article:" + hashlib.sha256(entry.article_id.encode()).hexdigest()[:32]


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def bullets_html(entry: StoredSummary) -> str:
    items = "".join(f"<li>{html.escape(bullet, quote=True)}</li>" for bullet in entry.bullets)
    return f"<ul>{items}</ul>"


def _text(parent: ET.Element, tag: str, text: str | None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text or ""
    return element


def _sorted(entries: Iterable[StoredSummary]) -> list[StoredSummary]:
    """Newest first, by publication, else fetch time (the order of the desk)."""
    return sorted(entries, key=lambda entry: _moment(entry.published) or _moment(entry.fetched_at)
                  or datetime.min.replace(tzinfo=timezone.utc), reverse=True)


def render_atom(entries: Iterable[StoredSummary], info: FeedInfo) -> str:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(feed, "title", info.title)
    if info.subtitle:
        _text(feed, "subtitle", info.subtitle)
    _text(feed, "id", info.feed_id)
    _text(feed, "updated", _rfc3339(info.updated))
    _text(feed, "generator", GENERATOR)
    if info.self_url:
        ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": info.self_url})
    if info.site_url:
        ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": info.site_url})
    for entry in _sorted(entries):
        item = ET.SubElement(feed, "entry")
        _text(item, "title", entry.title or entry.article_id, type="text")
        _text(item, "id", entry_id(entry))
        summarized = _moment(entry.created_at) or info.updated
        _text(item, "updated", _rfc3339(summarized))
        published = _moment(entry.published)
        if published:
            _text(item, "published", _rfc3339(published))
        if is_web_url(entry.url):
            ET.SubElement(item, "link", {"rel": "alternate", "type": "text/html", "href": entry.url})
        author = ET.SubElement(item, "author")
        _text(author, "name", entry.source or GENERATOR)
        _text(item, "content", bullets_html(entry), type="html")
        _text(item, "category", None, term=entry.model, label=f"summarized by {entry.model}")
    return ET.tostring(feed, encoding="unicode", xml_declaration=False).join(
        ['<?xml version="1.0" encoding="utf-8"?>\n', "\n"])


def render_rss(entries: Iterable[StoredSummary], info: FeedInfo) -> str:
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", info.title)
    _text(channel, "link", info.site_url or info.self_url or info.feed_id)
    _text(channel, "description", info.subtitle or "Points of attention of recent articles")
    _text(channel, "lastBuildDate", format_datetime(info.updated.astimezone(timezone.utc), usegmt=True))
    _text(channel, "generator", GENERATOR)
    for entry in _sorted(entries):
        item = ET.SubElement(channel, "item")
        _text(item, "title", entry.title or entry.article_id)
        if is_web_url(entry.url):
            _text(item, "link", entry.url)
        _text(item, "guid", entry_id(entry), isPermaLink="false")
        published = _moment(entry.published) or _moment(entry.created_at)
        if published:
            _text(item, "pubDate", format_datetime(published, usegmt=True))
        _text(item, "description", bullets_html(entry))
        _text(item, "category", entry.model)
    return ET.tostring(rss, encoding="unicode").join(['<?xml version="1.0" encoding="utf-8"?>\n', "\n"])


RENDERERS = {"atom": render_atom, "rss": render_rss}


def feed_id_for(title: str, scope: str = "") -> str:
    """The feed's stable id, the same from the desk and the digest command for the same title."""
    return "urn:summarizer:feed:" + hashlib.sha256(f"{title}\n{scope}".encode()).hexdigest()[:32]


def render_feed(fmt: str, entries: Iterable[StoredSummary], info: FeedInfo) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown feed format '{fmt}'; choose one of {', '.join(SYNDICATION_FORMATS)}")
    return RENDERERS[fmt](entries, info)


def render_digest_feed(digest: Digest, fmt: str) -> str:
    """A digest (``summarizer digest --format atom|rss``) as a feed: its summarized entries, failures left out."""
    entries = [entry for group in digest.groups for entry in group.entries]
    info = FeedInfo(title=digest.title, feed_id=feed_id_for(digest.title), updated=digest.generated_at,
                    subtitle="Points of attention of recent articles")
    return render_feed(fmt, entries, info)
