"""Test doubles, after simonw/llm's MockModel: queued replies and a call history."""

from __future__ import annotations

from summarizer.articles import Article
from summarizer.backends.base import Backend, BackendOptions
from summarizer.specs import ModelSpec


class FakeOptions(BackendOptions):
    # Replies handed out in order; when they run out, the backend echoes the first sentence(s).
    replies: list[str] = []
    # Article ids (or substrings of the text) that make summarize_batch raise, to test isolation.
    fail_on: list[str] = []
    # Return the failure in the failing article's place instead of raising for the whole batch.
    fail_in_place: bool = False
    input_limit: int | None = None
    batch_size: int = 4


class FakeBackend(Backend):
    backend_id = "fake"
    Options = FakeOptions
    supports_batch = True

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.queue = list(self.options.replies)
        self.calls: list[list[str]] = []

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str | Exception]:
        self.calls.append([article.id for article in articles])
        failures = {article.id: RuntimeError(f"fake failure on {article.id}") for article in articles
                    if any(marker in article.id or marker in article.text for marker in self.options.fail_on)}
        if failures and not self.options.fail_in_place:
            raise next(iter(failures.values()))
        replies: list[str | Exception] = []
        for article in articles:
            if article.id in failures:
                replies.append(failures[article.id])
                continue
            if self.queue:
                replies.append(self.queue.pop(0))
            else:
                sentences = [s.strip() for s in article.text.split(".") if s.strip()]
                replies.append("\n".join(f"- {s}." for s in sentences[:n_bullets]))
        return replies

    def input_limit(self) -> int | None:
        return self.options.input_limit

    def batch_size(self) -> int:
        return self.options.batch_size


def fake_spec(**options) -> ModelSpec:
    return ModelSpec(name="fake", backend="fake", options=options)
