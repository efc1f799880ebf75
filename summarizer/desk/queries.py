"""The desk's SQL: every page and its JSON twin call one function here, over the store's own tables.

Articles are addressed by their content hash (what summaries are keyed by, and what VACUUM never
renumbers). Each article shows one summary: the newest good one, else the newest failure, the same
choice as ``Store.summaries_since``. Full-text search goes through the ``article_search`` FTS5 table
that the store's migrations keep in sync with articles and summaries.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from summarizer.store import StoredSummary, canonical_url, to_utc_iso, utc_now
from summarizer.store.digest import parse_duration

GROUPINGS = ("feed", "day")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
_SEARCH_TERM = re.compile(r"\w+", re.UNICODE)
_ARTICLE_ID = re.compile(r"[0-9a-f]{64}")

# An article's best summary: good before failed, then newest (the choice of Store.summaries_since).
# Looked up per listed article through the summaries' (article_hash, ...) unique index, so a page
# costs the same however many summaries the store holds.
_BEST_SUMMARY = """(SELECT s.rowid FROM summaries s WHERE s.article_hash = a.content_hash
                    ORDER BY s.error IS NOT NULL, s.created_at DESC, s.rowid DESC LIMIT 1)"""
_SUMMARIZED = "EXISTS (SELECT 1 FROM summaries s WHERE s.article_hash = a.content_hash)"
_WELL_SUMMARIZED = "EXISTS (SELECT 1 FROM summaries s WHERE s.article_hash = a.content_hash AND s.error IS NULL)"
_NEWEST_FIRST = "ORDER BY COALESCE(a.published, a.fetched_at) DESC, a.rowid DESC"
_ARTICLE_COLUMNS = """
    a.content_hash AS id, a.id AS source_id, a.title, a.url, a.published, a.fetched_at, a.source,
    a.feed_id, COALESCE(f.title, a.source, f.url, a.url, a.id) AS feed_name, f.url AS feed_url,
    b.bullets, b.model, b.model_spec, b.params_key, b.path, b.error, b.created_at AS summarized_at,
    b.run_id, COALESCE(a.published, a.fetched_at) AS sort_time
"""


class QueryError(ValueError):
    """A filter the user gave cannot be read (the message says which and why)."""


@dataclass(frozen=True)
class ArticleFilters:
    since: str | None = None  # ISO date/time, or a duration back from now ("24h", "7d")
    until: str | None = None  # ISO date (inclusive) or date/time
    feed: int | None = None
    q: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE
    group: str = "feed"

    def to_params(self) -> dict[str, str]:
        """The non-default filters as query parameters (for paging links)."""
        params = {"since": self.since, "until": self.until, "feed": self.feed, "q": self.q,
                  "group": None if self.group == "feed" else self.group,
                  "per_page": None if self.per_page == DEFAULT_PAGE_SIZE else self.per_page}
        return {name: str(value) for name, value in params.items() if value not in (None, "")}


@dataclass
class ArticleGroup:
    label: str
    key: str
    articles: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ArticlePage:
    filters: ArticleFilters
    articles: list[dict[str, Any]]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.per_page))

    def groups(self) -> list[ArticleGroup]:
        """Articles grouped by feed or by day, keeping the newest-first order inside and between groups."""
        groups: dict[str, ArticleGroup] = {}
        for article in self.articles:
            if self.filters.group == "day":
                key = label = (article["sort_time"] or "")[:10] or "undated"
            else:
                key, label = str(article["feed_id"] or article["feed_name"]), article["feed_name"]
            groups.setdefault(key, ArticleGroup(label=label, key=key)).articles.append(article)
        return list(groups.values())

    def to_json(self) -> dict[str, Any]:
        return {"filters": {**self.filters.__dict__}, "total": self.total, "page": self.filters.page,
                "pages": self.pages, "articles": [public_article(article) for article in self.articles]}


# --- reading filters -----------------------------------------------------------------------------------
def _int_param(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise QueryError(f"{name} must be between {low} and {high}, not {number}")
    return number


def parse_filters(params: dict[str, str]) -> ArticleFilters:
    """Filters from query parameters; QueryError names the parameter that cannot be read."""
    group = params.get("group") or "feed"
    if group not in GROUPINGS:
        raise QueryError(f"group must be one of {', '.join(GROUPINGS)}, not {group!r}")
    feed = params.get("feed")
    filters = ArticleFilters(
        since=(params.get("since") or "").strip() or None, until=(params.get("until") or "").strip() or None,
        feed=_int_param(feed, "feed", 0, 1, 2**62) if feed else None, q=(params.get("q") or "").strip() or None,
        page=_int_param(params.get("page"), "page", 1, 1, 10**6),
        per_page=_int_param(params.get("per_page"), "per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE), group=group)
    time_bounds(filters)  # reject unreadable dates now, with the parameter's name
    return filters


def _moment(value: str, name: str, end_of_day: bool = False) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        return to_utc_iso(moment + timedelta(days=1) if end_of_day else moment)
    try:
        return to_utc_iso(datetime.fromisoformat(value))
    except ValueError:
        pass
    if name == "since":
        try:
            return to_utc_iso(datetime.now(timezone.utc) - parse_duration(value))
        except ValueError:
            pass
    raise QueryError(f"{name} must be a date (2025-03-04), a date and time (2025-03-04T09:30)"
                     + (" or a duration (24h, 7d)" if name == "since" else "") + f", not {value!r}")


def time_bounds(filters: ArticleFilters) -> tuple[str | None, str | None]:
    """(since, until) as UTC ISO strings, the form every time in the store has."""
    since = _moment(filters.since, "since") if filters.since else None
    until = _moment(filters.until, "until", end_of_day=True) if filters.until else None
    return since, until


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 query: every word must occur (quoted, so no FTS syntax gets through)."""
    terms = _SEARCH_TERM.findall(text)
    return " ".join(f'"{term}"' for term in terms) or None


# --- articles ------------------------------------------------------------------------------------------
def _article_query(where: str, limit: str = "") -> str:
    """Articles matching ``where`` (newest first, then ``limit``), each with its best summary and feed."""
    return f"""
        WITH chosen AS (
            SELECT a.rowid AS article_rowid FROM articles a
            WHERE a.content_hash IS NOT NULL AND {where} {_NEWEST_FIRST} {limit}
        )
        SELECT {_ARTICLE_COLUMNS}
        FROM chosen
        JOIN articles a ON a.rowid = chosen.article_rowid
        JOIN summaries b ON b.rowid = {_BEST_SUMMARY}
        LEFT JOIN feeds f ON f.id = a.feed_id
        {_NEWEST_FIRST}
    """


def _row_to_article(row: sqlite3.Row) -> dict[str, Any]:
    article = dict(row)
    article["bullets"] = json.loads(article["bullets"] or "[]")
    return article


def public_article(article: dict[str, Any]) -> dict[str, Any]:
    """An article as the JSON API shows it."""
    keys = ("id", "title", "url", "published", "fetched_at", "feed_id", "feed_name", "feed_url", "bullets",
            "model", "error", "summarized_at", "run_id")
    return {key: article.get(key) for key in keys}


def list_articles(conn: sqlite3.Connection, filters: ArticleFilters) -> ArticlePage:
    """Summarized articles matching the filters, newest first (by publication, else fetch time)."""
    since, until = time_bounds(filters)
    match = fts_query(filters.q) if filters.q else None
    where = f"""
        {_SUMMARIZED}
        AND (:since IS NULL OR COALESCE(a.published, a.fetched_at) >= :since)
        AND (:until IS NULL OR COALESCE(a.published, a.fetched_at) < :until)
        AND (:feed IS NULL OR a.feed_id = :feed)
        AND (:match IS NULL OR a.content_hash IN
             (SELECT article_hash FROM article_search WHERE article_search MATCH :match))
    """
    values = {"since": since, "until": until, "feed": filters.feed, "match": match,
              "limit": filters.per_page, "offset": (filters.page - 1) * filters.per_page}
    total = conn.execute(f"SELECT count(*) FROM articles a WHERE a.content_hash IS NOT NULL AND {where}",
                         values).fetchone()[0]
    rows = conn.execute(_article_query(where, "LIMIT :limit OFFSET :offset"), values)
    return ArticlePage(filters=filters, articles=[_row_to_article(row) for row in rows], total=total)


def get_article(conn: sqlite3.Connection, article_id: str) -> dict[str, Any] | None:
    """One article with its text, its best summary, every other summary and the run that made the best."""
    if not _ARTICLE_ID.fullmatch(article_id):
        return None
    row = conn.execute(_article_query(f"a.content_hash = :id AND {_SUMMARIZED}"), {"id": article_id}).fetchone()
    if row is None:
        return None
    article = _row_to_article(row)
    source = conn.execute("SELECT text, warnings FROM articles WHERE content_hash = ?", (article_id,)).fetchone()
    article["text"] = source["text"]
    article["warnings"] = json.loads(source["warnings"] or "[]")
    article["settings"] = json.loads(article.pop("params_key") or "{}")
    article["run"] = get_run(conn, article["run_id"]) if article["run_id"] is not None else None
    others = conn.execute(
        "SELECT model, bullets, error, created_at, run_id FROM summaries WHERE article_hash = ?"
        " ORDER BY created_at DESC, rowid DESC", (article_id,))
    article["summaries"] = [{**dict(other), "bullets": json.loads(other["bullets"] or "[]")} for other in others]
    return article


def get_run(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    run = dict(row)
    for name in ("params", "versions", "counts", "timings", "errors"):
        run[name] = json.loads(run[name] or "null")
    return run


# --- feeds ---------------------------------------------------------------------------------------------
def list_feeds(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every feed on the desk (not removed) with its last poll, error and article counts."""
    rows = conn.execute("""
        SELECT f.id, f.url, f.title, f.last_polled, f.last_error,
               (SELECT count(*) FROM articles a WHERE a.feed_id = f.id AND a.error IS NULL) AS articles,
               (SELECT count(*) FROM articles a WHERE a.feed_id = f.id AND a.error IS NOT NULL) AS failed_articles,
               (SELECT count(DISTINCT s.article_hash) FROM summaries s JOIN articles a
                    ON a.content_hash = s.article_hash WHERE a.feed_id = f.id AND s.error IS NULL) AS summarized
        FROM feeds f
        WHERE f.id NOT IN (SELECT feed_id FROM removed_feeds)
        ORDER BY COALESCE(f.title, f.url) COLLATE NOCASE
    """)
    feeds = []
    for row in rows:
        feed = dict(row)
        feed["status"] = "never polled" if not feed["last_polled"] else ("error" if feed["last_error"] else "ok")
        feeds.append(feed)
    return feeds


def get_feed(conn: sqlite3.Connection, feed_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, url, title FROM feeds WHERE id = ?", (feed_id,)).fetchone()
    return dict(row) if row else None


def add_feed(conn: sqlite3.Connection, url: str) -> int:
    """Put a feed on the desk (again, if it was removed); return its id."""
    url = canonical_url(url) if url.strip().lower().startswith(("http://", "https://")) else url.strip()
    with conn:
        conn.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?)", (url,))
        feed_id = conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()[0]
        conn.execute("DELETE FROM removed_feeds WHERE feed_id = ?", (feed_id,))
    return int(feed_id)


def remove_feed(conn: sqlite3.Connection, feed_id: int) -> bool:
    """Take a feed off the desk: no longer polled or listed; its articles and summaries stay."""
    with conn:
        if conn.execute("SELECT 1 FROM feeds WHERE id = ?", (feed_id,)).fetchone() is None:
            return False
        conn.execute("INSERT OR REPLACE INTO removed_feeds (feed_id, removed_at) VALUES (?, ?)",
                     (feed_id, utc_now()))
    return True


def active_feed_urls(conn: sqlite3.Connection) -> list[str]:
    """The web feeds the desk polls (local feed files recorded by `summarizer run` are not polled)."""
    rows = conn.execute("SELECT url FROM feeds WHERE id NOT IN (SELECT feed_id FROM removed_feeds)"
                        " AND (url LIKE 'http://%' OR url LIKE 'https://%') ORDER BY id")
    return [row[0] for row in rows]


# --- syndication ---------------------------------------------------------------------------------------
def summarized_entries(conn: sqlite3.Connection, feed_id: int | None = None, limit: int = 50
                       ) -> list[StoredSummary]:
    """The newest successfully summarized articles as digest entries (what the Atom/RSS feeds carry)."""
    rows = conn.execute(
        _article_query(f"{_WELL_SUMMARIZED} AND (:feed IS NULL OR a.feed_id = :feed)", "LIMIT :limit"),
        {"feed": feed_id, "limit": limit})
    return [
        StoredSummary(article_id=row["source_id"], title=row["title"], url=row["url"], source=row["feed_name"],
                      feed_url=row["feed_url"], published=row["published"], fetched_at=row["fetched_at"],
                      bullets=json.loads(row["bullets"]), model=row["model"], error=None,
                      created_at=row["summarized_at"])
        for row in rows
    ]


def register_feeds(conn: sqlite3.Connection, sources: list[tuple[str, str | None]]) -> None:
    """Put the (url, name) feeds of a feeds list on the desk, unless they were removed from it on /feeds
    (the removal wins over the file); a name fills in a feed that has no title yet."""
    with conn:
        for url, name in sources:
            conn.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?)", (url,))
            if name:
                conn.execute("UPDATE feeds SET title = ? WHERE url = ? AND title IS NULL", (name, url))
