"""The one runner: articles -> summarizer -> sink, with stats. Local, Ray and store runs all use it.

Steps (after huggingface/evaluate's evaluator): load_articles -> prepare_inputs -> run_backend (timed)
-> postprocess_bullets. Every article given yields exactly one Summary, in input order; an article
that cannot be summarized yields a Summary with ``error`` set, and the batch goes on.

What shapes the output travels as one frozen ``RunSettings`` (defaults from configs/default.yaml
through ``RunSettings.from_config``). Who computes the summaries is a ``Summarizer``: this process's
backend (``LocalSummarizer``) or a pool of Ray actors (``engines.ray_engine.RaySummarizer``). ``run``
is the single loop that hands each Summary to a sink the moment it exists and keeps the ``RunStats``:
a file writer for ``summarizer run``, the store for ``run --store`` (``store.resumable``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend, BackendOutput
from summarizer.bullets import to_bullets
from summarizer.config import RunConfig, load_config
from summarizer.language import article_language
from summarizer.specs import ModelSpec
from summarizer.text import split_sentences

log = logging.getLogger(__name__)

# Articles handed to the backend at a time; the backend batches further inside.
WINDOW = 64
# What to do when a generative model says nothing usable: "lead" gives the article's first sentences,
# flagged in the record's path and warning; "none" records an error (evaluation uses this, so a
# model's score is its own).
FALLBACKS = ("lead", "none")
# Clean bullets taken from a generated text before grounding picks the first n supported ones.
MAX_CANDIDATE_BULLETS = 32


@dataclass(frozen=True)
class RunSettings:
    """What shapes a run's output. The field defaults are RunConfig's (configs/default.yaml has the
    same values); ``from_config`` reads the YAML and applies command-line overrides."""

    n_bullets: int = RunConfig.model_fields["bullets"].default
    bullet_max_chars: int = RunConfig.model_fields["bullet_max_chars"].default
    fallback: str = RunConfig.model_fields["fallback"].default
    # Generated bullets the article does not support (numbers or names it lacks, or too few of its words)
    # are left out, and the record says so (summarizer.grounding). Extractive bullets are the article's own.
    grounding: bool = RunConfig.model_fields["grounding"].default
    # Articles handed to the backend at a time (a store run also claims work in windows of this size).
    window: int = WINDOW

    def __post_init__(self) -> None:
        if self.n_bullets < 1:
            raise ValueError(f"the number of bullets must be at least 1, got {self.n_bullets}")
        if self.bullet_max_chars < 1:
            raise ValueError(f"bullet_max_chars must be at least 1, got {self.bullet_max_chars}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"unknown fallback '{self.fallback}'; choose one of {', '.join(FALLBACKS)}")
        if self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window}")

    @classmethod
    def from_config(cls, config: RunConfig | str | None = None, **overrides: Any) -> RunSettings:
        """Settings from a run config (a RunConfig, a config name or path; None: configs/default.yaml),
        with ``overrides`` (e.g. ``n_bullets=args.bullets``) applied where they are not None."""
        if not isinstance(config, RunConfig):
            config = load_config(config)
        values = {"n_bullets": config.bullets, "bullet_max_chars": config.bullet_max_chars,
                  "fallback": config.fallback, "grounding": config.grounding}
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def output_params(self) -> dict[str, Any]:
        """The settings that identify a summary in the store (its summary key): the same article,
        model and these values give an interchangeable summary."""
        params: dict[str, Any] = {"n_bullets": self.n_bullets, "bullet_max_chars": self.bullet_max_chars}
        if not self.grounding:
            # Only when off, so that summaries stored before the setting existed keep their keys.
            params["grounding"] = False
        return params

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunStats:
    articles: int = 0
    failed: int = 0
    seconds: float = 0.0
    # Seconds this process spent loading the model; None when the model was loaded elsewhere (Ray
    # actors) or not at all (nothing to summarize).
    load_seconds: float | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # Articles per identified language (summarizer.language); the report shows them when they mix.
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def succeeded(self) -> int:
        return self.articles - self.failed

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else 0.0

    def record(self, summary: Summary) -> None:
        self.articles += 1
        if summary.language:
            self.languages[summary.language] = self.languages.get(summary.language, 0) + 1
        if summary.error:
            self.failed += 1
            self.errors.append((summary.id, summary.error))
        elif summary.warning:
            self.warnings.append((summary.id, summary.warning))


class Summarizer(Protocol):
    """Who turns articles into summaries for ``run``: one Summary per article, in input order."""

    spec: ModelSpec

    def load(self) -> float | None:
        """Make the model ready in this process; return the seconds it took (None: loaded elsewhere)."""

    def summarize(self, articles: Iterable[Article], settings: RunSettings) -> Iterator[Summary]:
        """One Summary per article, in input order, yielded as each exists."""


class LocalSummarizer:
    """This process's backend."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.spec = backend.spec

    def load(self) -> float:
        self.backend.ensure_loaded()
        return self.backend.load_seconds

    def summarize(self, articles: Iterable[Article], settings: RunSettings) -> Iterator[Summary]:
        return summarize_articles(articles, self.backend, settings)


def as_summarizer(summarizer: Summarizer | Backend) -> Summarizer:
    """A backend runs in this process; anything else already is a Summarizer."""
    return LocalSummarizer(summarizer) if isinstance(summarizer, Backend) else summarizer


def prepare_inputs(article: Article) -> str | None:
    """Return why an article cannot go to a model, or None when it can."""
    if article.error:
        return article.error
    if not article.text.strip():
        return "article has no text"
    return None


def error_summary(article: Article, model: str, error: str | None) -> Summary:
    """A Summary carrying the article's identity and, when given, the reason it has no bullets."""
    return Summary(
        id=article.id, title=article.title, url=article.url, bullets=[], model=model, error=error,
        source=article.source, published=article.published, reference_bullets=article.reference_bullets,
        language=article_language(article), encoder=article.metadata.get("sentence_encoder"),
    )


def postprocess_bullets(output: BackendOutput, backend: Backend, settings: RunSettings) -> Summary:
    article = output.article
    summary = error_summary(article, backend.spec.name, output.error)
    summary.path, summary.n_chunks = output.path, output.n_chunks
    summary.truncated_tokens = output.truncated_tokens
    summary.timings = {"generate_s": round(output.seconds, 4)}
    if output.error:
        return summary
    summary.raw_output = output.text
    # An unfinished last line is dropped only when the token limit cut it (or the backend cannot tell);
    # a model that stopped on its own meant its last line, full stop or not.
    cut_off = backend.abstractive and output.hit_token_limit is not False
    ground = backend.abstractive and settings.grounding
    # With grounding, every clean bullet is judged first, so that a dropped one makes room for the next.
    summary.bullets = to_bullets(output.text, MAX_CANDIDATE_BULLETS if ground else settings.n_bullets,
                                 max_chars=settings.bullet_max_chars, drop_unfinished_last=cut_off)
    notes: list[str] = []
    if ground and summary.bullets:
        summary.bullets, dropped = ground_bullets(summary.bullets, article.text)
        summary.bullets = summary.bullets[: settings.n_bullets]
        if dropped:
            notes.append(dropped)
    if not summary.bullets and settings.fallback == "lead":
        lead = "\n".join(split_sentences(article.text)[: settings.n_bullets])
        summary.bullets = to_bullets(lead, settings.n_bullets, max_chars=settings.bullet_max_chars,
                                     drop_unfinished_last=False)
        summary.path += "+fallback-lead"
        summary.warning = "the model produced no usable bullet; these are the article's lead sentences"
    if not summary.bullets:
        summary.error = "the model produced no usable bullet (raw output kept in raw_output)"
    elif len(summary.bullets) < settings.n_bullets and not summary.warning:
        expected = backend.bullets_for(settings.n_bullets)
        if len(summary.bullets) < expected:
            notes.insert(0, shortfall_warning(len(summary.bullets), expected, output.hit_token_limit))
    if notes:
        summary.warning = "; ".join(([summary.warning] if summary.warning else []) + notes)
    return summary


def ground_bullets(bullets: list[str], article_text: str) -> tuple[list[str], str | None]:
    """The bullets the article supports, and a note naming what was left out (None when nothing was)."""
    from summarizer.grounding import judge_bullets

    verdicts = judge_bullets(bullets, article_text)
    kept = [verdict.text for verdict in verdicts if verdict.kept]
    dropped = [verdict for verdict in verdicts if not verdict.kept]
    if not dropped:
        return kept, None
    reasons = []
    for verdict in dropped[:3]:
        why = (f"not in the article: {', '.join(verdict.unsupported)}" if verdict.unsupported
               else f"{verdict.content_support:.0%} of its words are in the article")
        reasons.append(f"'{verdict.text[:80]}' ({why})")
    more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
    return kept, f"left out {len(dropped)} generated bullet(s) the article does not support: " \
                 + "; ".join(reasons) + more


def shortfall_warning(written: int, asked: int, hit_token_limit: bool | None) -> str:
    """Say on the record that fewer bullets came out than were asked for, and why when we know."""
    warning = f"the model wrote {written} of the {asked} bullets asked"
    if hit_token_limit:
        warning += " (generation stopped at the token limit; raise max_tokens/max_new_tokens for more)"
    return warning


def summarize_articles(
    articles: Iterable[Article], backend: Backend, settings: RunSettings | None = None
) -> Iterator[Summary]:
    """Yield one Summary per article, in input order (``settings`` None: RunSettings' defaults)."""
    settings = settings or RunSettings()
    window: list[Article] = []
    for article in articles:
        window.append(article)
        if len(window) >= settings.window:
            yield from _summarize_window(window, backend, settings)
            window = []
    if window:
        yield from _summarize_window(window, backend, settings)


def _summarize_window(window: list[Article], backend: Backend, settings: RunSettings) -> Iterator[Summary]:
    problems = [prepare_inputs(article) for article in window]
    ready = [article for article, problem in zip(window, problems) if problem is None]
    # summarize_many yields in input order, batch by batch: pulling lazily streams each summary out
    # as soon as its batch is done instead of waiting for the whole window.
    outputs = backend.summarize_many(ready, settings.n_bullets)
    for article, problem in zip(window, problems):
        if problem is not None:
            summary = error_summary(article, backend.spec.name, problem)
        else:
            output = next(outputs)
            if output.article is not article:
                raise RuntimeError(f"backend {backend.backend_id} returned outputs out of order")
            summary = postprocess_bullets(output, backend, settings)
        if summary.error or summary.warning:
            # The run report lists every failed article; the log line is for -v runs.
            log.info("article %s: %s", article.id, summary.error or summary.warning)
        yield summary


def run(
    articles: Iterable[Article],
    summarizer: Summarizer | Backend,
    sink: Callable[[Summary], None],
    settings: RunSettings | None = None,
    stats: RunStats | None = None,
) -> RunStats:
    """Summarize everything, hand each Summary to ``sink`` as soon as it exists, return the stats.

    The one loop of every run: ``summarizer`` is a backend (this process) or any Summarizer (Ray
    actors); the sink writes a file or saves into the store. ``stats`` may be given to read what was
    done so far when the run is interrupted. ``seconds`` includes the model load.
    """
    summarizer = as_summarizer(summarizer)
    settings = settings or RunSettings()
    stats = stats if stats is not None else RunStats()
    started = time.perf_counter()
    stats.load_seconds = summarizer.load()
    for summary in summarizer.summarize(articles, settings):
        sink(summary)
        stats.record(summary)
    stats.seconds = time.perf_counter() - started
    return stats
