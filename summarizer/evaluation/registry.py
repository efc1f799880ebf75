"""The metric registry: every metric family is registered once, and everything that shows or uses a
metric reads it (the evaluator, `compare`, `meta-eval`, the leaderboard and report columns, the CLI's
``--metrics`` flag).

A family is one module that defines ``FAMILY = MetricFamily(...)``. Adding one is that module plus one
line in ``BUILTIN_FAMILIES`` (or a ``register_metric`` call, for a family that lives outside the
package). Family modules import their heavy dependencies inside ``create``, so listing names and
reading headline columns stays cheap enough for the CLI.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from summarizer.evaluation.harness import EvalConfig
    from summarizer.evaluation.rouge import RougeScorer

# name -> module defining FAMILY. The order is the order of columns in tables.
BUILTIN_FAMILIES: dict[str, str] = {
    "rouge": "summarizer.evaluation.families.rouge",
    "bullets": "summarizer.evaluation.families.bullets",
    "faithfulness": "summarizer.evaluation.families.faithfulness",
    "semantic": "summarizer.evaluation.families.semantic",
    "judge": "summarizer.evaluation.judge",
}
NEEDS = frozenset({"reference", "article"})


class MetricUnavailableError(RuntimeError):
    """A metric that cannot run at all here (its server is down, its model missing): the message says why."""


@dataclass(frozen=True)
class Column:
    """A headline number: its per-article key, the label tables show, and the factor shown values use
    (ROUGE's 0-1 F is shown as 0-100)."""

    key: str
    label: str
    scale: float = 1.0


@dataclass(frozen=True)
class ArticleInput:
    """What a metric may look at for one article: the summary's bullets, the references in use
    (first only or all, as the evaluation is configured; each a list of bullets) and the article text."""

    id: str
    bullets: list[str]
    references: list[list[str]]
    article: str = ""


class ArticleScorer(Protocol):
    def score(self, item: ArticleInput) -> dict[str, float]:
        """Flat numeric keys for one article. A value the metric could not produce is left out (a missing
        value), never written as 0."""

    def describe(self) -> dict[str, Any]:
        """The configuration to record next to every number this scorer produced."""


@dataclass
class ScoringContext:
    """What families share while one evaluation runs: its configuration and one ROUGE scorer."""

    config: EvalConfig
    _rouge: RougeScorer | None = field(default=None, repr=False)
    # The tokenizer in use: the config's, unless the evaluator chose one for the references ("auto").
    tokenizer: str | None = None
    # The references' language, for the Unicode tokenizer's stemmer.
    language: str | None = None

    def use_tokenizer(self, name: str, language: str | None = None) -> None:
        self.tokenizer, self.language, self._rouge = name, language, None

    def rouge_scorer(self) -> RougeScorer:
        if self._rouge is None:
            from summarizer.evaluation.rouge import RougeScorer
            from summarizer.evaluation.tokenize import UnicodeTokenizer

            name = self.tokenizer or self.config.tokenizer
            tokenizer = UnicodeTokenizer(use_stemmer=self.config.use_stemmer, language=self.language) \
                if name == "unicode" else None
            self._rouge = RougeScorer(rouge_types=("rouge1", "rouge2", "rougeL", "rougeLsum"),
                                      mode=self.config.rouge_mode, use_stemmer=self.config.use_stemmer,
                                      tokenizer=tokenizer)
        return self._rouge

    def options(self, family: str) -> dict[str, Any]:
        return dict(self.config.metric_options.get(family, {}))


@dataclass(frozen=True)
class MetricFamily:
    name: str
    description: str
    needs: frozenset[str]
    headline: tuple[Column, ...]
    create: Callable[[ScoringContext], ArticleScorer]
    # On when `--metrics` is not given. Off for families that load a model or call a server.
    default: bool = True
    # An empty summary is scored (ROUGE gives 0) rather than left without a value (a judge has nothing
    # to judge; "unsupported claims per bullet" of no bullet is undefined).
    scores_empty: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.needs) - NEEDS
        if unknown:
            raise ValueError(f"metric {self.name!r}: unknown needs {sorted(unknown)}; use {sorted(NEEDS)}")
        if not self.headline:
            raise ValueError(f"metric {self.name!r} needs at least one headline column")


_registered: dict[str, MetricFamily] = {}
_loaded: dict[str, MetricFamily] = {}


def register_metric(family: MetricFamily, replace: bool = False) -> MetricFamily:
    """Register a family defined outside the package (a plugin, a test's toy metric)."""
    if not replace and (family.name in _registered or family.name in BUILTIN_FAMILIES):
        raise ValueError(f"metric family {family.name!r} is already registered")
    _registered[family.name] = family
    return family


def unregister_metric(name: str) -> None:
    _registered.pop(name, None)


def metric_names() -> list[str]:
    """Every family's name, built in first, without importing any family module."""
    return list(BUILTIN_FAMILIES) + [name for name in _registered if name not in BUILTIN_FAMILIES]


def get_metric(name: str) -> MetricFamily:
    if name in _registered:
        return _registered[name]
    if name not in BUILTIN_FAMILIES:
        raise KeyError(f"unknown metric family {name!r}; known: {', '.join(metric_names())}")
    if name not in _loaded:
        _loaded[name] = importlib.import_module(BUILTIN_FAMILIES[name]).FAMILY
    return _loaded[name]


def default_metric_names() -> list[str]:
    return [name for name in metric_names() if get_metric(name).default]


def resolve_metric_names(names: Iterable[str] | None) -> list[str]:
    """The families an evaluation runs: `names` in registry order (duplicates dropped), or the defaults."""
    if names is None:
        return default_metric_names()
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        get_metric(name)  # unknown names fail here, with the list of known ones
    order = metric_names()
    return sorted(wanted, key=order.index)


def headline_columns(names: Iterable[str]) -> list[Column]:
    return [column for name in names for column in get_metric(name).headline]


def display_scale(key: str) -> float:
    """The factor tables apply to a key's values (a `_mean` variant shows like its headline key)."""
    base = key.removesuffix("_mean")
    for name in metric_names():
        try:
            family = get_metric(name)
        except ImportError:
            continue
        for column in family.headline:
            if column.key == base:
                return column.scale
    return 1.0
