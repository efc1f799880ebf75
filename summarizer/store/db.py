"""SQLite store for feed runs: feeds, articles, summaries and run manifests.

One file, stdlib ``sqlite3`` in WAL mode (readers, such as ``summarizer digest``, never block the
writer). The schema evolves through numbered migrations: ``MIGRATIONS[i]`` brings a database from
``PRAGMA user_version`` i to i + 1, so an old store is upgraded in place when it is opened.

Articles are deduplicated twice: by canonical URL (tracking parameters, fragment, trailing slash and
host case removed) and by a hash of title + text (the same story syndicated under two URLs). A
summary is keyed by (article hash, model spec, parameters): every write is an upsert on that key, so
a rerun after a crash never duplicates one, and each summary is committed as soon as it exists.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sqlite3
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from summarizer.articles import Article, Summary
from summarizer.ingest.urls import canonical_url

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE IF NOT EXISTS feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT,
        etag TEXT,
        last_modified TEXT,
        last_polled TEXT,
        last_error TEXT
    );
    CREATE TABLE IF NOT EXISTS articles (
        id TEXT NOT NULL,
        canonical_url TEXT UNIQUE,
        content_hash TEXT UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        url TEXT,
        published TEXT,
        source TEXT,
        feed_id INTEGER REFERENCES feeds(id),
        fetched_at TEXT NOT NULL,
        error TEXT,
        warnings TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        model TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        versions TEXT NOT NULL DEFAULT '{}',
        counts TEXT NOT NULL DEFAULT '{}',
        timings TEXT NOT NULL DEFAULT '{}',
        errors TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE IF NOT EXISTS summaries (
        article_hash TEXT NOT NULL REFERENCES articles(content_hash),
        model_spec TEXT NOT NULL,
        params_key TEXT NOT NULL,
        model TEXT NOT NULL,
        bullets TEXT NOT NULL DEFAULT '[]',
        path TEXT,
        timings TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        raw_output TEXT,
        run_id INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL,
        UNIQUE (article_hash, model_spec, params_key)
    );
    CREATE INDEX IF NOT EXISTS summaries_by_created_at ON summaries (created_at);
    """,
    # 2: a feed entry stored with its teaser only (its page could not be fetched), to be replaced.
    "ALTER TABLE articles ADD COLUMN teaser_only INTEGER NOT NULL DEFAULT 0;",
    # 3: work claiming, so that concurrent runs on one store split the pending articles. A claim says
    # which run took an article for a model + parameters; the run's lease says until when that holds
    # (a run renews it while it works; a crashed run's claims can be taken once it lapses).
    """
    CREATE TABLE IF NOT EXISTS claims (
        article_hash TEXT NOT NULL,
        model_spec TEXT NOT NULL,
        params_key TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        claimed_at TEXT NOT NULL,
        PRIMARY KEY (article_hash, model_spec, params_key)
    );
    CREATE INDEX IF NOT EXISTS claims_by_run ON claims (run_id);
    CREATE TABLE IF NOT EXISTS leases (
        run_id INTEGER PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # 4: for the desk: full-text search (FTS5 over title, text and good bullets, kept in sync by
    # triggers; keyed by content hash, which VACUUM never renumbers), feeds removed from the desk, and
    # indexes for its newest-first and per-feed listings.
    """
    CREATE INDEX IF NOT EXISTS articles_by_time ON articles (COALESCE(published, fetched_at));
    CREATE INDEX IF NOT EXISTS articles_by_feed ON articles (feed_id);
    CREATE TABLE IF NOT EXISTS removed_feeds (
        feed_id INTEGER PRIMARY KEY REFERENCES feeds(id),
        removed_at TEXT NOT NULL
    );
    CREATE VIRTUAL TABLE IF NOT EXISTS article_search USING fts5(
        article_hash UNINDEXED, title, text, bullets, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER IF NOT EXISTS article_search_insert AFTER INSERT ON articles WHEN new.content_hash IS NOT NULL BEGIN
        INSERT INTO article_search (article_hash, title, text, bullets) VALUES (new.content_hash, new.title,
            new.text, COALESCE((SELECT group_concat(bullets, ' ') FROM summaries
                                WHERE article_hash = new.content_hash AND error IS NULL), ''));
    END;
    CREATE TRIGGER IF NOT EXISTS article_search_update AFTER UPDATE OF content_hash, title, text ON articles BEGIN
        DELETE FROM article_search WHERE article_hash = old.content_hash;
        INSERT INTO article_search (article_hash, title, text, bullets)
            SELECT new.content_hash, new.title, new.text,
                   COALESCE((SELECT group_concat(bullets, ' ') FROM summaries
                             WHERE article_hash = new.content_hash AND error IS NULL), '')
            WHERE new.content_hash IS NOT NULL;
    END;
    CREATE TRIGGER IF NOT EXISTS article_search_delete AFTER DELETE ON articles BEGIN
        DELETE FROM article_search WHERE article_hash = old.content_hash;
    END;
    CREATE TRIGGER IF NOT EXISTS article_search_summary_insert AFTER INSERT ON summaries BEGIN
        UPDATE article_search SET bullets = COALESCE((SELECT group_concat(bullets, ' ') FROM summaries
            WHERE article_hash = new.article_hash AND error IS NULL), '') WHERE article_hash = new.article_hash;
    END;
    CREATE TRIGGER IF NOT EXISTS article_search_summary_update AFTER UPDATE ON summaries BEGIN
        UPDATE article_search SET bullets = COALESCE((SELECT group_concat(bullets, ' ') FROM summaries
            WHERE article_hash = new.article_hash AND error IS NULL), '') WHERE article_hash = new.article_hash;
    END;
    CREATE TRIGGER IF NOT EXISTS article_search_summary_delete AFTER DELETE ON summaries BEGIN
        UPDATE article_search SET bullets = COALESCE((SELECT group_concat(bullets, ' ') FROM summaries
            WHERE article_hash = old.article_hash AND error IS NULL), '') WHERE article_hash = old.article_hash;
    END;
    INSERT INTO article_search (article_hash, title, text, bullets)
        SELECT a.content_hash, a.title, a.text,
               COALESCE((SELECT group_concat(s.bullets, ' ') FROM summaries s
                         WHERE s.article_hash = a.content_hash AND s.error IS NULL), '')
        FROM articles a WHERE a.content_hash IS NOT NULL
                              AND a.content_hash NOT IN (SELECT article_hash FROM article_search);
    """,
)

# How long a run's claims hold without a renewal. A run renews its lease with every claim and every
# saved summary, so only a run that stopped (killed, machine gone) lets it lapse; a run on this
# machine whose process is gone loses its claims at once (see Store.claim_pending).
DEFAULT_LEASE_S = 600.0


class StoreError(RuntimeError):
    """The store cannot be used as asked (damaged, newer than this summarizer, ...); the message says why."""


class StoreDamagedError(StoreError):
    """The store file is not a sound SQLite database (truncated, overwritten, not a database at all)."""


# SQLite's result codes for a file that is damaged or is not a database at all.
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def damaged_store_message(path: Path, problem: str) -> str:
    """What a user needs when the store is damaged: which file, what SQLite saw, two ways out."""
    return (f"the store {path} is damaged ({problem}); nothing was written to it. Recover what SQLite "
            f"can still read into a new file with\n"
            f"    sqlite3 {shlex.quote(str(path))} \".recover\" | sqlite3 recovered.db\n"
            f"and use --store recovered.db, or start a new store (move {path} away or give another --store)")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def to_utc_iso(moment: datetime) -> str:
    """ISO-8601 in UTC, the form every timestamp in the store has (so strings compare as times)."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SummaryKey:
    """What makes two summaries of one article interchangeable: the model and the run parameters.

    ``model_spec`` is the backend + options (so one spec name with other options is another model);
    ``params_key`` the run parameters that change the output (bullet count, bullet length).
    """

    model: str
    model_spec: str
    params_key: str


@dataclass
class FeedState:
    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    last_polled: str | None
    last_error: str | None


@dataclass
class StoredSummary:
    """A summary joined with its article and feed, as the digest needs it."""

    article_id: str
    title: str
    url: str | None
    source: str
    feed_url: str | None
    published: str | None
    fetched_at: str
    bullets: list[str]
    model: str
    error: str | None
    created_at: str
    timings: dict[str, float] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.article_id, "title": self.title, "url": self.url, "source": self.source,
            "feed_url": self.feed_url, "published": self.published, "bullets": self.bullets,
            "model": self.model, "error": self.error, "summarized_at": self.created_at,
        }


def _open(path: Path, check: bool = True) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, timeout=30.0)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open the store {path}: {error} (a folder, or a file this user may not "
                         f"read and write?)") from error
    try:
        # Before anything that writes (the journal mode, a migration, a run manifest): a damaged file
        # must be left exactly as it is, for `.recover`. quick_check reads every page but skips the
        # index-versus-table cross checks, so it stays cheap.
        report = [row[0] for row in connection.execute("PRAGMA quick_check(3)")] if check else ["ok"]
        if report != ["ok"]:
            problems = [line.strip() for entry in report for line in entry.splitlines()
                        if line.strip() and not line.startswith("***")]
            raise StoreDamagedError(damaged_store_message(path, "; ".join(problems) or "quick_check failed"))
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL still survives a killed process; only a power cut may lose the last commits.
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as error:
        connection.close()
        code = getattr(error, "sqlite_errorcode", None)
        if code in DAMAGE_CODES:
            raise StoreDamagedError(damaged_store_message(path, str(error))) from error
        if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
            raise StoreError(f"cannot open the store {path}: {error} (a folder, or a file this user may not "
                             f"read and write?)") from error
        raise
    except BaseException:
        connection.close()
        raise
    return connection


def migration_statements(script: str) -> list[str]:
    """The statements of one migration script, split where SQLite sees a complete statement (so a
    semicolon inside a string literal does not split)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"migration script ends with an incomplete statement: {pending.strip()[:80]!r}")
    return statements


def apply_statement(connection: sqlite3.Connection, statement: str) -> None:
    """Run one migration statement; an ADD COLUMN whose column exists already counts as done (SQLite
    has no ADD COLUMN IF NOT EXISTS), which keeps every migration idempotent."""
    try:
        connection.execute(statement)
    except sqlite3.OperationalError as error:
        if not ("ADD COLUMN" in statement.upper() and "duplicate column name" in str(error)):
            raise


def schema_version(connection: sqlite3.Connection) -> int:
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise StoreError(f"the store has schema version {version}, newer than this summarizer "
                         f"knows ({len(MIGRATIONS)}); upgrade summarizer to open it")
    return version


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the migrations this database has not seen yet; return the version.

    Runs started together on a new store race here, so the migrations run in one write transaction
    (BEGIN IMMEDIATE: one process at a time, the others wait on the busy timeout) that re-reads the
    version once it holds the lock: whoever comes second finds the work done. Each script is also
    idempotent (IF NOT EXISTS; an existing column for ADD COLUMN), so a store whose version bump was
    lost migrates again harmlessly.
    """
    if schema_version(connection) == len(MIGRATIONS):
        return len(MIGRATIONS)
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(connection)
        for number in range(version, len(MIGRATIONS)):
            for statement in migration_statements(MIGRATIONS[number]):
                apply_statement(connection, statement)
        # PRAGMA takes no parameters; the value is this module's own integer.
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    except BaseException:
        connection.rollback()
        raise
    connection.commit()
    return len(MIGRATIONS)


class Store:
    """The store file at ``path`` (created, or migrated to the current schema, on open).

    Opening checks the file (``PRAGMA quick_check``, one read of every page) and raises
    StoreDamagedError for a damaged one; a long-lived reader that opens the store often (a web app
    per request) may pass ``check=False`` after one checked open.
    """

    def __init__(self, path: str | Path, *, check: bool = True):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the folder of the store {self.path}: {error}") from error
        self.conn = _open(self.path, check=check)
        self.schema_version = migrate(self.conn)
        self._feed_ids: dict[str, int] = {}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # --- feeds -------------------------------------------------------------------------------------
    def feed_state(self, url: str) -> FeedState | None:
        row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedState(**dict(row)) if row else None

    def ensure_feed(self, url: str) -> int:
        if url not in self._feed_ids:
            with self.conn:
                self.conn.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?)", (url,))
            row = self.conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()
            self._feed_ids[url] = row[0]
        return self._feed_ids[url]

    def record_feed_poll(self, url: str, *, title: str | None = None, etag: str | None = None,
                         last_modified: str | None = None, error: str | None = None) -> None:
        """Remember a poll. A failed poll keeps the validators of the last good one."""
        self.ensure_feed(url)
        with self.conn:
            if error:
                self.conn.execute("UPDATE feeds SET last_polled = ?, last_error = ? WHERE url = ?",
                                  (utc_now(), error, url))
            else:
                self.conn.execute(
                    "UPDATE feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?,"
                    " last_polled = ?, last_error = NULL WHERE url = ?",
                    (title, etag, last_modified, utc_now(), url))

    # --- articles ----------------------------------------------------------------------------------
    def add_articles(self, articles: Iterable[Article]) -> list[Article]:
        """Store articles, each committed as it arrives; return those not seen before.

        An article that could not be read (``error`` set) is kept under its URL so it is listed and
        replaced by the text when a later fetch works; it is never returned (there is nothing to
        summarize). Without a URL it only appears in the run's errors.
        """
        return [article for article in articles if self.add_article(article)]

    def add_article(self, article: Article) -> bool:
        canonical = canonical_url(article.url) if article.url else None
        feed_url = article.metadata.get("feed_url")
        values = {
            "id": article.id, "canonical_url": canonical, "title": article.title, "text": article.text,
            "url": article.url, "published": article.published, "source": article.source,
            "feed_id": self.ensure_feed(feed_url) if feed_url else None, "fetched_at": utc_now(),
            "error": article.error, "warnings": json.dumps(article.metadata.get("warnings", [])),
            "content_hash": None if article.error else article.content_hash,
            "teaser_only": int(bool(article.metadata.get("teaser_only"))),
        }
        if article.error and canonical is None:
            return False
        existing = None
        if canonical is not None:
            existing = self.conn.execute(
                "SELECT rowid, error, teaser_only, content_hash FROM articles WHERE canonical_url = ?",
                (canonical,)).fetchone()
        with self.conn:
            if existing is None:
                columns = ", ".join(values)
                placeholders = ", ".join(f":{name}" for name in values)
                insert = f"INSERT OR IGNORE INTO articles ({columns}) VALUES ({placeholders})"
                cursor = self.conn.execute(insert, values)
                return cursor.rowcount == 1 and not article.error
            replaces_teaser = bool(existing["teaser_only"]) and not values["teaser_only"]
            if article.error or (existing["error"] is None and not replaces_teaser):
                return False
            if replaces_teaser:
                # The summary of the teaser is superseded by the one of the full text made next.
                self.conn.execute("DELETE FROM summaries WHERE article_hash = ?", (existing["content_hash"],))
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            try:
                self.conn.execute(f"UPDATE articles SET {assignments} WHERE rowid = :rowid",
                                  {**values, "rowid": existing["rowid"]})
            except sqlite3.IntegrityError:
                # The text is already stored under another URL: the error record is obsolete.
                self.conn.execute("DELETE FROM articles WHERE rowid = ?", (existing["rowid"],))
                return False
            return True

    def article_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM articles WHERE error IS NULL").fetchone()[0]

    def article_errors(self) -> list[tuple[str, str]]:
        rows = self.conn.execute("SELECT id, error FROM articles WHERE error IS NOT NULL ORDER BY rowid")
        return [(row["id"], row["error"]) for row in rows]

    def pending_articles(self, key: SummaryKey, retry_errors: bool = True) -> list[Article]:
        """Articles without a summary for this model + parameters, oldest first.

        With ``retry_errors`` an earlier failed summary counts as missing, so it is tried again.
        """
        rows = self.conn.execute(
            """
            SELECT a.*, f.url AS feed_url FROM articles a
            LEFT JOIN feeds f ON f.id = a.feed_id
            LEFT JOIN summaries s ON s.article_hash = a.content_hash AND s.model_spec = ? AND s.params_key = ?
            WHERE a.error IS NULL AND (s.article_hash IS NULL OR (? AND s.error IS NOT NULL))
            ORDER BY a.rowid
            """, (key.model_spec, key.params_key, retry_errors))
        return [_article_from_row(row) for row in rows]

    # --- work claims ------------------------------------------------------------------------------
    def claim_pending(self, key: SummaryKey, run_id: int, limit: int, *, retry_errors: bool = True,
                      among: Collection[str] | None = None, lease_s: float = DEFAULT_LEASE_S) -> list[Article]:
        """Take up to ``limit`` pending articles (as ``pending_articles``) for run ``run_id``, oldest first.

        Claiming is one write transaction, so concurrent runs never take the same article: an article
        is skipped while another run's claim on it holds (its lease has not lapsed and, for a run on
        this machine, its process is alive) and once this run has claimed it (a summary that failed
        in this run is not retried by it). ``among`` restricts the choice to these content hashes.
        The run's lease is renewed. Release the claims with ``release_claims`` when the run ends.
        """
        if limit < 1:
            return []
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            self._expire_dead_leases(now)
            self._renew_lease(run_id, now + lease_s)
            claimed = []
            for row in self._claimable_rows(key, run_id, retry_errors, now):
                if among is not None and row["content_hash"] not in among:
                    continue
                claimed.append(_article_from_row(row))
                if len(claimed) == limit:
                    break
            self.conn.executemany(
                "INSERT OR REPLACE INTO claims (article_hash, model_spec, params_key, run_id, claimed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(article.content_hash, key.model_spec, key.params_key, run_id, utc_now()) for article in claimed])
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        return claimed

    def claimable_count(self, key: SummaryKey, run_id: int, *, retry_errors: bool = True,
                        among: Collection[str] | None = None) -> int:
        """How many articles ``claim_pending`` could still give run ``run_id`` now (for progress)."""
        rows = self._claimable_rows(key, run_id, retry_errors, time.time())
        return sum(1 for row in rows if among is None or row["content_hash"] in among)

    def renew_lease(self, run_id: int, lease_s: float = DEFAULT_LEASE_S) -> None:
        with self.conn:
            self._renew_lease(run_id, time.time() + lease_s)

    def release_claims(self, run_id: int) -> None:
        """Drop run ``run_id``'s claims and lease: what it did not summarize is free for any run."""
        with self.conn:
            self.conn.execute("DELETE FROM claims WHERE run_id = ?", (run_id,))
            self.conn.execute("DELETE FROM leases WHERE run_id = ?", (run_id,))

    def _renew_lease(self, run_id: int, expires_at: float) -> None:
        self.conn.execute("INSERT OR REPLACE INTO leases (run_id, holder, expires_at) VALUES (?, ?, ?)",
                          (run_id, lease_holder(), expires_at))

    def _expire_dead_leases(self, now: float) -> None:
        """Let the claims of runs on this machine whose process is gone (killed) lapse now."""
        rows = self.conn.execute("SELECT run_id, holder FROM leases WHERE expires_at >= ?", (now,)).fetchall()
        dead = [row["run_id"] for row in rows if not holder_alive(row["holder"])]
        self.conn.executemany("UPDATE leases SET expires_at = 0 WHERE run_id = ?", [(run_id,) for run_id in dead])

    def _claimable_rows(self, key: SummaryKey, run_id: int, retry_errors: bool, now: float) -> sqlite3.Cursor:
        return self.conn.execute(
            """
            SELECT a.*, f.url AS feed_url FROM articles a
            LEFT JOIN feeds f ON f.id = a.feed_id
            LEFT JOIN summaries s ON s.article_hash = a.content_hash AND s.model_spec = :spec
                                     AND s.params_key = :params
            LEFT JOIN claims c ON c.article_hash = a.content_hash AND c.model_spec = :spec
                                  AND c.params_key = :params
            LEFT JOIN leases l ON l.run_id = c.run_id
            WHERE a.error IS NULL AND (s.article_hash IS NULL OR (:retry AND s.error IS NOT NULL))
              AND (c.run_id IS NULL OR (c.run_id != :run AND COALESCE(l.expires_at, 0) < :now))
            ORDER BY a.rowid
            """, {"spec": key.model_spec, "params": key.params_key, "retry": retry_errors, "run": run_id,
                  "now": now})

    # --- summaries ---------------------------------------------------------------------------------
    def save_summary(self, summary: Summary, article_hash: str, key: SummaryKey,
                     run_id: int | None = None) -> None:
        """Write one summary and commit. A good summary is never replaced; a failed one is."""
        with self.conn:
            self.conn.execute(
                """
                INSERT INTO summaries (article_hash, model_spec, params_key, model, bullets, path, timings,
                                       error, raw_output, run_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (article_hash, model_spec, params_key) DO UPDATE SET
                    model = excluded.model, bullets = excluded.bullets, path = excluded.path,
                    timings = excluded.timings, error = excluded.error, raw_output = excluded.raw_output,
                    run_id = excluded.run_id, created_at = excluded.created_at
                WHERE summaries.error IS NOT NULL
                """,
                (article_hash, key.model_spec, key.params_key, key.model, json.dumps(summary.bullets),
                 summary.path, json.dumps(summary.timings), summary.error, summary.raw_output, run_id,
                 utc_now()))

    def summary_count(self, key: SummaryKey | None = None) -> int:
        if key is None:
            return self.conn.execute("SELECT count(*) FROM summaries").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM summaries WHERE model_spec = ? AND params_key = ?",
                                 (key.model_spec, key.params_key)).fetchone()[0]

    def summaries_since(self, since: datetime, model: str | None = None) -> list[StoredSummary]:
        """Summaries written at or after ``since``; one per article (with ``model`` unset: the newest
        successful one, else the newest failure)."""
        rows = self.conn.execute(
            """
            SELECT * FROM (
                SELECT s.*, a.id AS article_id, a.title, a.url, a.published, a.fetched_at,
                       COALESCE(f.title, a.source, f.url, a.url, a.id) AS source_name, f.url AS feed_url,
                       ROW_NUMBER() OVER (
                           PARTITION BY s.article_hash
                           ORDER BY s.error IS NOT NULL, s.created_at DESC, s.rowid DESC
                       ) AS rank
                FROM summaries s
                JOIN articles a ON a.content_hash = s.article_hash
                LEFT JOIN feeds f ON f.id = a.feed_id
                WHERE s.created_at >= ? AND (? IS NULL OR s.model = ?)
            ) WHERE rank = 1
            ORDER BY COALESCE(published, fetched_at) DESC
            """, (to_utc_iso(since), model, model))
        return [
            StoredSummary(
                article_id=row["article_id"], title=row["title"], url=row["url"], source=row["source_name"],
                feed_url=row["feed_url"], published=row["published"], fetched_at=row["fetched_at"],
                bullets=json.loads(row["bullets"]), model=row["model"], error=row["error"],
                created_at=row["created_at"], timings=json.loads(row["timings"]),
            )
            for row in rows
        ]

    # --- runs --------------------------------------------------------------------------------------
    def start_run(self, model: str, params: dict[str, Any], versions: dict[str, str | None]) -> int:
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO runs (started_at, model, params, versions) VALUES (?, ?, ?, ?)",
                (utc_now(), model, json.dumps(params, sort_keys=True), json.dumps(versions, sort_keys=True)))
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, *, status: str = "finished", counts: dict[str, int] | None = None,
                   timings: dict[str, float] | None = None,
                   errors: list[tuple[str, str]] | None = None) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, timings = ?, errors = ?"
                " WHERE id = ?",
                (utc_now(), status, json.dumps(counts or {}), json.dumps(timings or {}),
                 json.dumps([list(error) for error in errors or []]), run_id))

    def runs(self) -> list[dict[str, Any]]:
        """Run manifests, oldest first; a run killed before it finished keeps status 'running'."""
        manifests = []
        for row in self.conn.execute("SELECT * FROM runs ORDER BY id"):
            manifest = dict(row)
            for name in ("params", "versions", "counts", "timings", "errors"):
                manifest[name] = json.loads(manifest[name])
            manifests.append(manifest)
        return manifests


def lease_holder() -> str:
    """Who holds a lease: this machine and process (asked each time: a forked child is another
    process), so that a run on the same machine can tell a killed run's claims from a live one's
    without waiting for the lease to lapse."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_alive(holder: str) -> bool:
    """False only when ``holder`` ran on this machine and its process is gone; other machines'
    runs are trusted until their lease lapses."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _article_from_row(row: sqlite3.Row) -> Article:
    metadata: dict[str, Any] = {"warnings": json.loads(row["warnings"])}
    if row["feed_url"]:
        metadata["feed_url"] = row["feed_url"]
    return Article(id=row["id"], text=row["text"], title=row["title"], url=row["url"],
                   published=row["published"], source=row["source"], metadata=metadata)
