"""Digests from the store: the summaries of the last ``--since`` period as Markdown, HTML, JSONL, Atom or RSS.

Entries are grouped by feed (groups in alphabetical order, newest article first in each), each with
its bullets, link and source; summaries that failed are listed at the end with their error. The HTML
page is self-contained (inline CSS, no script, no remote resource; a Content-Security-Policy says so)
and every feed-supplied string is escaped: feeds are untrusted input. Only http(s) URLs become links,
percent-encoded (summarizer.escaping), so a ``javascript:`` or ``data:`` link in a feed stays inert
text and a ``>`` in a URL cannot end the Markdown link it sits in.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from summarizer import outputs
from summarizer.desk import syndication
from summarizer.escaping import escape_markdown, link_url
from summarizer.store.db import Store, StoredSummary

FORMATS = ("md", "html", "jsonl", "atom", "rss")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

HTML_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; background: #fff; line-height: 1.5; }
header { border-bottom: 2px solid #1d1d1f; margin-bottom: 1.5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.8rem; }
.meta { color: #6e6e73; font-size: .9rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d2d2d7; padding-bottom: .2rem; }
article { margin: 1rem 0 1.5rem; }
h3 { font-size: 1.05rem; margin: 0 0 .2rem; }
h3 a { color: #0a58ca; text-decoration: none; }
h3 a:hover { text-decoration: underline; }
ul { margin: .4rem 0 0; padding-left: 1.3rem; }
li { margin: .2rem 0; }
.error { color: #b3261e; }
"""


def parse_duration(text: str) -> timedelta:
    """``"24h"``, ``"7d"``, ``"90m"``, ``"1d12h"``, ``"2w"``, ``"30s"`` -> timedelta."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"cannot read duration {text!r}: use a number and a unit (s, m, h, d, w), "
                         f"e.g. 90m, 24h, 7d or 1d12h")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{DURATION_UNITS[unit]: float(number)})
    if total <= timedelta():
        raise ValueError(f"duration {text!r} must be longer than zero")
    return total


def since_moment(duration: str, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - parse_duration(duration)


@dataclass
class DigestGroup:
    source: str
    feed_url: str | None
    entries: list[StoredSummary] = field(default_factory=list)


@dataclass
class Digest:
    title: str
    generated_at: datetime
    since: datetime
    groups: list[DigestGroup]
    failures: list[StoredSummary]

    @property
    def article_count(self) -> int:
        return sum(len(group.entries) for group in self.groups)


def build_digest(store: Store, since: datetime, model: str | None = None, title: str = "News digest",
                 now: datetime | None = None) -> Digest:
    """Everything summarized since ``since`` (optionally by one model), grouped by feed."""
    groups: dict[str, DigestGroup] = {}
    failures = []
    # The store returns entries newest first; grouping keeps that order inside each group.
    for entry in store.summaries_since(since, model=model):
        if entry.error:
            failures.append(entry)
            continue
        groups.setdefault(entry.source, DigestGroup(entry.source, entry.feed_url)).entries.append(entry)
    ordered = sorted(groups.values(), key=lambda group: group.source.casefold())
    return Digest(title=title, generated_at=now or datetime.now(timezone.utc), since=since, groups=ordered,
                  failures=failures)


def display_time(value: str | datetime | None) -> str:
    if value is None:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return value if isinstance(value, str) else ""
    if moment.tzinfo is None:
        # A naive midnight is a date without a time (trafilatura's page dates).
        return moment.strftime("%Y-%m-%d" if (moment.hour, moment.minute) == (0, 0) else "%Y-%m-%d %H:%M")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _period(digest: Digest) -> str:
    return f"{display_time(digest.since)} to {display_time(digest.generated_at)}"


# --- Markdown ------------------------------------------------------------------------------------------
def render_markdown(digest: Digest) -> str:
    lines = [f"# {escape_markdown(digest.title)}", "",
             f"{digest.article_count} articles, {_period(digest)}.", ""]
    for group in digest.groups:
        lines += [f"## {escape_markdown(group.source)}", ""]
        for entry in group.entries:
            title = escape_markdown(entry.title or entry.article_id)
            link = link_url(entry.url)
            lines.append(f"### [{title}](<{link}>)" if link else f"### {title}")
            lines.append("")
            details = (escape_markdown(entry.source), escape_markdown(display_time(entry.published)),
                       escape_markdown(entry.model))
            lines += [f"*{' · '.join(part for part in details if part)}*", ""]
            lines += [f"- {escape_markdown(bullet)}" for bullet in entry.bullets]
            lines.append("")
    if digest.failures:
        lines += ["## Not summarized", ""]
        for entry in digest.failures:
            title = escape_markdown(entry.title or entry.article_id)
            link = link_url(entry.url)
            autolink = f" <{link}>" if link else ""
            lines.append(f"- {title}{autolink}: {escape_markdown(entry.error or '')}")
        lines.append("")
    return "\n".join(lines)


# --- HTML ----------------------------------------------------------------------------------------------
def _e(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def _html_title(entry: StoredSummary) -> str:
    """The title, linked to the article when its URL is http(s)."""
    title = _e(entry.title or entry.article_id)
    link = link_url(entry.url)
    if link:
        return f'<a href="{_e(link)}" rel="noopener noreferrer">{title}</a>'
    return title


def _html_entry(entry: StoredSummary) -> str:
    heading = _html_title(entry)
    parts = (_e(entry.source), _e(display_time(entry.published)), _e(entry.model))
    details = " · ".join(part for part in parts if part)
    bullets = "\n".join(f"    <li>{_e(bullet)}</li>" for bullet in entry.bullets)
    return (f'<article>\n  <h3>{heading}</h3>\n  <div class="meta">{details}</div>\n'
            f"  <ul>\n{bullets}\n  </ul>\n</article>")


def render_html(digest: Digest) -> str:
    sections = []
    for group in digest.groups:
        entries = "\n".join(_html_entry(entry) for entry in group.entries)
        sections.append(f"<section>\n<h2>{_e(group.source)}</h2>\n{entries}\n</section>")
    if digest.failures:
        items = "\n".join(f'  <li>{_html_title(entry)}: <span class="error">{_e(entry.error)}</span></li>'
                          for entry in digest.failures)
        sections.append(f"<section>\n<h2>Not summarized</h2>\n<ul>\n{items}\n</ul>\n</section>")
    body = "\n".join(sections) if sections else "<p>No articles were summarized in this period.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{_e(digest.title)}</title>
<style>{HTML_STYLE}</style>
</head>
<body>
<header>
<h1>{_e(digest.title)}</h1>
<p class="meta">{digest.article_count} articles, {_e(_period(digest))}</p>
</header>
<main>
{body}
</main>
</body>
</html>
"""


# --- JSONL ---------------------------------------------------------------------------------------------
def render_jsonl(digest: Digest) -> str:
    entries = [entry for group in digest.groups for entry in group.entries] + digest.failures
    return "".join(json.dumps(entry.to_record(), ensure_ascii=False) + "\n" for entry in entries)


def render_atom(digest: Digest) -> str:
    return syndication.render_digest_feed(digest, "atom")


def render_rss(digest: Digest) -> str:
    return syndication.render_digest_feed(digest, "rss")


RENDERERS = {"md": render_markdown, "html": render_html, "jsonl": render_jsonl, "atom": render_atom,
             "rss": render_rss}


def render_digest(digest: Digest, fmt: str) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown digest format '{fmt}'; choose one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](digest)


def format_for_path(path: str | Path | None, default: str = "md") -> str:
    """The digest format a file name asks for (.md/.markdown, .html/.htm, .jsonl, .atom, .rss)."""
    return outputs.format_for_path(path, default, FORMATS)


def write_digest(store: Store, since: str, fmt: str, out: str | Path, model: str | None = None,
                 title: str = "News digest") -> Digest:
    """Render the digest of the last ``since`` (e.g. "24h") into ``out``; return it."""
    digest = build_digest(store, since_moment(since), model=model, title=title)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_digest(digest, fmt), encoding="utf-8")
    return digest
