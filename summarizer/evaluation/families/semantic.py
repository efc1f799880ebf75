"""MiniLM sentence-embedding similarity to the first reference (loads the packaged encoder: off by default)."""

from __future__ import annotations

from typing import Any

from summarizer.evaluation.registry import ArticleInput, Column, MetricFamily, ScoringContext


class SemanticScorer:
    def __init__(self, context: ScoringContext):
        from summarizer.evaluation.semantic import MiniLMEncoder

        self.encoder = MiniLMEncoder()

    def score(self, item: ArticleInput) -> dict[str, float]:
        from summarizer.evaluation.semantic import semantic_similarity

        return semantic_similarity(item.bullets, item.references[0], self.encoder)

    def describe(self) -> dict[str, Any]:
        return {"encoder": "all-MiniLM-L6-v2 (packaged)", "reference": "first"}


FAMILY = MetricFamily(
    name="semantic",
    description="MiniLM cosine of summaries and BERTScore-style bullet matching",
    needs=frozenset({"reference"}),
    headline=(Column("semantic_sim", "semantic sim", 100), Column("semantic_match_f", "semantic match F", 100)),
    create=SemanticScorer,
    default=False,
    scores_empty=False,
)
