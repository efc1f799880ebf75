"""The SQLite store: feeds, articles, summaries and run manifests (``db``), store-backed runs that
survive being killed (``resumable``) and digests of recent summaries (``digest``).

The package namespace re-exports the database layer only, so ``from summarizer.store import Store``
stays light (no pipeline or backend import); import ``summarizer.store.resumable`` or
``summarizer.store.digest`` for the rest.
"""

from summarizer.store.db import (
    MIGRATIONS,
    FeedState,
    Store,
    StoreDamagedError,
    StoredSummary,
    StoreError,
    SummaryKey,
    canonical_url,
    migrate,
    to_utc_iso,
    utc_now,
)

__all__ = [
    "MIGRATIONS", "FeedState", "Store", "StoreDamagedError", "StoreError", "StoredSummary", "SummaryKey",
    "canonical_url", "migrate", "to_utc_iso", "utc_now",
]
