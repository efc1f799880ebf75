"""Model-free faithfulness proxies against the article: unsupported numbers and names, extractive fragments."""

from __future__ import annotations

from typing import Any

from summarizer.evaluation.registry import ArticleInput, Column, MetricFamily, ScoringContext


class FaithfulnessScorer:
    def __init__(self, context: ScoringContext):
        pass

    def score(self, item: ArticleInput) -> dict[str, float]:
        from summarizer.evaluation.faithfulness import fragment_stats, unsupported_items

        row = {key: value for key, value in unsupported_items(item.bullets, item.article).items()
               if isinstance(value, int | float)}
        row.update(fragment_stats(item.article, " ".join(item.bullets)))
        return row

    def describe(self) -> dict[str, Any]:
        return {"unsupported": "numbers and name-like spans absent from the article",
                "fragments": "Grusky et al. 2018 extractive fragment coverage/density"}


FAMILY = MetricFamily(
    name="faithfulness",
    description="unsupported numbers/names per bullet, extractive fragment coverage and density",
    needs=frozenset({"article"}),
    headline=(Column("unsupported_per_bullet", "unsupported/bullet"), Column("fragment_coverage", "coverage"),
              Column("fragment_density", "density")),
    create=FaithfulnessScorer,
    scores_empty=False,
)
