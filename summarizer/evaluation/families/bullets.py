"""Bullet-level coverage and redundancy against the first reference's bullets (see bullet_metrics)."""

from __future__ import annotations

from typing import Any

from summarizer.evaluation.registry import ArticleInput, Column, MetricFamily, ScoringContext


class BulletFamilyScorer:
    def __init__(self, context: ScoringContext):
        self.scorer = context.rouge_scorer()

    def score(self, item: ArticleInput) -> dict[str, float]:
        from summarizer.evaluation.bullet_metrics import bullet_metrics

        metrics = bullet_metrics(item.bullets, item.references[0], scorer=self.scorer)
        return {key: value for key, value in metrics.items() if isinstance(value, int | float)}

    def describe(self) -> dict[str, Any]:
        from summarizer.evaluation.bullet_metrics import ALIGNMENT_ROUGE_TYPE, ROUGE_MATCH_THRESHOLD

        return {"reference": "first", "similarity": f"{ALIGNMENT_ROUGE_TYPE}_f", "threshold": ROUGE_MATCH_THRESHOLD,
                "assignment": "one-to-one, maximum total similarity (Hungarian)"}


FAMILY = MetricFamily(
    name="bullets",
    description="one-to-one bullet coverage (recall/precision/F) and redundancy between bullets",
    needs=frozenset({"reference"}),
    headline=(Column("bullet_f", "bullet F", 100), Column("redundancy_mean", "redundancy")),
    create=BulletFamilyScorer,
)
