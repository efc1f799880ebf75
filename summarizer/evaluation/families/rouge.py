"""ROUGE-1/2/L/Lsum against the references in use: max over references (headline keys) and, with several
references, their mean (``*_mean`` keys)."""

from __future__ import annotations

from typing import Any

from summarizer.evaluation.registry import ArticleInput, Column, MetricFamily, ScoringContext

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")


class RougeFamilyScorer:
    def __init__(self, context: ScoringContext):
        self.scorer = context.rouge_scorer()

    def score(self, item: ArticleInput) -> dict[str, float]:
        prediction_text = "\n".join(item.bullets)
        per_reference = [self.scorer.score("\n".join(reference), prediction_text) for reference in item.references]
        row: dict[str, float] = {}
        for rouge_type in ROUGE_TYPES:
            for part, index in (("p", 0), ("r", 1), ("f", 2)):
                values = [scores[rouge_type][index] for scores in per_reference]
                row[f"{rouge_type}_{part}"] = max(values)
                if len(values) > 1:
                    row[f"{rouge_type}_{part}_mean"] = sum(values) / len(values)
        return row

    def describe(self) -> dict[str, Any]:
        return self.scorer.config()


FAMILY = MetricFamily(
    name="rouge",
    description="ROUGE-1/2/L/Lsum F, P and R (rouge-score or ROUGE-1.5.5 mode)",
    needs=frozenset({"reference"}),
    headline=(Column("rouge1_f", "R-1", 100), Column("rouge2_f", "R-2", 100), Column("rougeL_f", "R-L", 100),
              Column("rougeLsum_f", "R-Lsum", 100)),
    create=RougeFamilyScorer,
)
