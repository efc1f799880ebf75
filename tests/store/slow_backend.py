"""A deliberately slow backend for the kill-and-resume test, and the 200 articles it summarizes.

``SLOW_BACKEND_STALL_AFTER`` (environment) makes it hang after that many articles, so that a test
can SIGKILL the process at a point that is certainly mid-run. It is read from the environment, not
from the spec options, because options are part of the store's summary key: the resumed run must use
the very same spec to find the missing summaries.
"""

from __future__ import annotations

import os
import time

from summarizer.articles import Article
from summarizer.backends.base import Backend, BackendOptions
from summarizer.specs import ModelSpec

STALL_ENV = "SLOW_BACKEND_STALL_AFTER"
# A file to which every summarized article id is appended (one line each, from any process), so a
# test can count the summarizations that concurrent runs did between them.
LOG_ENV = "SLOW_BACKEND_LOG"
BACKEND_ID = "slow-test"
REGISTRY_ENTRY = "tests.store.slow_backend:SlowBackend"


class SlowOptions(BackendOptions):
    delay_s: float = 0.005
    batch_size: int = 8


class SlowBackend(Backend):
    backend_id = BACKEND_ID
    Options = SlowOptions
    supports_batch = True

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.articles_seen: list[str] = []
        stall = os.environ.get(STALL_ENV)
        self.stall_after = int(stall) if stall else None
        self.log_path = os.environ.get(LOG_ENV)

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str]:
        replies = []
        for article in articles:
            if self.stall_after is not None and len(self.articles_seen) >= self.stall_after:
                time.sleep(120)
            time.sleep(self.options.delay_s)
            self.articles_seen.append(article.id)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:  # one short append: atomic
                    log.write(f"{os.getpid()} {article.id}\n")
            first_sentence = article.text.split(". ")[0].rstrip(".")
            replies.append(f"- {first_sentence}.")
        return replies

    def batch_size(self) -> int:
        return self.options.batch_size


def slow_spec() -> ModelSpec:
    return ModelSpec(name="slow-test", backend=BACKEND_ID, options={"delay_s": 0.005})


def fixture_articles(count: int) -> list[Article]:
    return [
        Article(
            id=f"https://news.example/story-{index}",
            url=f"https://news.example/story-{index}",
            title=f"Story number {index}",
            text=(f"Story {index} reports that the council approved plan number {index} on Monday. "
                  f"The plan covers {index * 3} new homes near the river. Work starts next year."),
            source="Resume fixtures",
        )
        for index in range(count)
    ]
