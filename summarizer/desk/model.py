"""One loaded model shared by the API and the poller, with the run settings of `summarizer run`.

Backends are not documented as thread-safe, so every call into the model holds one lock: requests
queue for the model instead of racing on its state.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend
from summarizer.pipeline import RunSettings, summarize_articles
from summarizer.specs import ModelSpec


@dataclass(frozen=True)
class SummarySettings:
    """`summarizer run`'s settings (bullets, bullet length, fallback) plus its article length cap."""

    n_bullets: int
    bullet_max_chars: int
    max_chars: int
    fallback: str = RunSettings.fallback

    @property
    def run_settings(self) -> RunSettings:
        return RunSettings(n_bullets=self.n_bullets, bullet_max_chars=self.bullet_max_chars, fallback=self.fallback)

    def to_json(self) -> dict[str, Any]:
        return {"n_bullets": self.n_bullets, "bullet_max_chars": self.bullet_max_chars,
                "fallback": self.fallback, "max_chars": self.max_chars}


class SharedModel:
    def __init__(self, backend: Backend, settings: SummarySettings):
        self.backend = backend
        self.settings = settings
        self.lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.backend.spec.name

    @property
    def spec(self) -> ModelSpec:
        return self.backend.spec

    def load(self) -> float:
        with self.lock:
            self.backend.ensure_loaded()
        return self.backend.load_seconds

    def summarize_one(self, article: Article) -> Summary:
        """One article through the pipeline of `summarizer run` (same checks, same bullet clean-up)."""
        with self.lock:
            return next(summarize_articles([article], self.backend, self.settings.run_settings))

    def summarize(self, articles: Iterable[Article], settings: RunSettings) -> Iterator[Summary]:
        """The pipeline's Summarizer for a poll (``run_with_store``): one article at a time under the lock,
        so an API request waits for one article of a poll, not for the whole poll."""
        for article in articles:
            with self.lock:
                summary = next(summarize_articles([article], self.backend, settings))
            yield summary

    def describe(self) -> dict[str, Any]:
        spec = self.backend.spec
        return {"model": spec.name, "backend": spec.backend, "options": spec.options,
                "settings": self.settings.to_json()}


def article_from_request(text: str, title: str = "", url: str | None = None) -> Article:
    return Article(id=url or f"api-{uuid.uuid4().hex[:12]}", text=text, title=title, url=url, source="api")
