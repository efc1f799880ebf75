"""Evaluate predictions against references: per-article scores, aggregates with intervals, config.

Steps: load_predictions / load_references -> score_articles (per-article flat metric dicts, cached
on disk by the caller) -> aggregate_scores (seeded bootstrap intervals) -> write_results.
Every number written carries the configuration that produced it (implementation, stemmer,
tokenizer, reference handling, seed, data hash), so published numbers can be reproduced.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from summarizer import __version__
from summarizer.evaluation.bullet_metrics import bullet_metrics
from summarizer.evaluation.faithfulness import fragment_stats, unsupported_items
from summarizer.evaluation.rouge import RougeScorer
from summarizer.evaluation.stats import bootstrap_ci
from summarizer.evaluation.tokenize import (
    UnicodeTokenizer,
    choose_tokenizer,
    references_language,
    stemmer_description,
)
from summarizer.text import split_sentences

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# The metrics leaderboards show first; all others are kept in per_article.jsonl and summary.json.
HEADLINE_METRICS = ("rouge1_f", "rouge2_f", "rougeL_f", "rougeLsum_f")


@dataclass
class EvalConfig:
    rouge_mode: str = "rouge-score"  # or "rouge155"
    # "auto": "unicode" when the references are mostly non-Latin text (with a notice), else "default"
    tokenizer: str = "auto"  # or "default" (rouge-score's) or "unicode" (Cyrillic, CJK, accented text)
    use_stemmer: bool = True
    # "first": the article's first reference only (the usual CNN/DM protocol);
    # "all": every reference, combined per article by max (headline keys) and by mean (*_mean keys).
    references: str = "first"
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    bullet_metrics: bool = True
    faithfulness: bool = True
    semantic: bool = False


@dataclass
class ReferenceItem:
    id: str
    references: list[list[str]]
    article: str = ""


@dataclass
class PredictionItem:
    id: str
    bullets: list[str]
    error: str | None = None
    # `summarizer run` put Lead sentences in when the model wrote no usable bullet (path "...+fallback-lead").
    fallback: bool = False


@dataclass
class EvalResult:
    per_article: list[dict[str, Any]]
    aggregates: dict[str, dict[str, float]]
    config: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)

    def metric_values(self, key: str) -> list[float]:
        return [row[key] for row in self.per_article if key in row]


def _as_bullets(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        lines = [line.strip() for line in value.split("\n") if line.strip()]
        return lines if len(lines) > 1 else split_sentences(value)
    return [str(item).strip() for item in value if str(item).strip()]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: invalid JSON: {error}") from error
    return records


def load_predictions(path: Path) -> dict[str, PredictionItem]:
    """A `summarizer run` output, or any JSONL with `id` and `bullets` (list) or `summary` (text)."""
    predictions: dict[str, PredictionItem] = {}
    for record in read_jsonl(path):
        if "id" not in record:
            raise ValueError(f"{path}: prediction record without 'id': keys {sorted(record)}")
        bullets = _as_bullets(record.get("bullets", record.get("summary")))
        fallback = "fallback" in str(record.get("path") or "")
        predictions[str(record["id"])] = PredictionItem(str(record["id"]), bullets, record.get("error"), fallback)
    return predictions


def load_references(path: Path, text_field: str = "article") -> dict[str, ReferenceItem]:
    """JSONL with `id` and `reference_bullets` and/or `references`, or seed files / directories."""
    if path.suffix == ".jsonl":
        items = {}
        for record in read_jsonl(path):
            references = [_as_bullets(ref) for ref in record.get("references") or []]
            first = _as_bullets(record.get("reference_bullets"))
            # When both are given, reference_bullets is the first reference split into bullets
            # (SummEval: the original highlights); keep its bullet split for ROUGE-Lsum.
            if first:
                references = [first] + references[1:]
            if not references:
                raise ValueError(f"{path}: record {record.get('id')!r} has no reference_bullets or references")
            article = record.get(text_field) or record.get("text") or ""
            items[str(record["id"])] = ReferenceItem(str(record["id"]), references, article)
        return items
    from summarizer.ingest import IngestOptions, load_articles

    items = {}
    for article in load_articles([str(path)], IngestOptions()):
        if article.reference_bullets:
            items[article.id] = ReferenceItem(article.id, article.references or [article.reference_bullets],
                                              f"{article.title}\n{article.text}")
    if not items:
        raise ValueError(f"{path}: no article with reference bullets found")
    return items


def data_hash(predictions: dict[str, PredictionItem], references: dict[str, ReferenceItem]) -> str:
    digest = hashlib.sha256()
    for key in sorted(references):
        digest.update(json.dumps([key, references[key].references], ensure_ascii=False).encode())
        prediction = predictions.get(key)
        digest.update(json.dumps(prediction.bullets if prediction else None, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


class Evaluator:
    """Scores predictions the same way for every system, so their numbers can be compared."""

    def __init__(self, config: EvalConfig | None = None):
        self.config = config or EvalConfig()
        # Set by use_tokenizer_for when "auto" switched to the Unicode tokenizer: the CLI shows it.
        self.tokenizer_notice: str | None = None
        self.build_scorer("unicode" if self.config.tokenizer == "unicode" else "default")
        self._semantic = None

    def build_scorer(self, tokenizer_name: str, language: str | None = None) -> None:
        tokenizer = None
        if tokenizer_name == "unicode":
            tokenizer = UnicodeTokenizer(use_stemmer=self.config.use_stemmer, language=language)
        self.scorer = RougeScorer(rouge_types=ROUGE_TYPES, mode=self.config.rouge_mode,
                                  use_stemmer=self.config.use_stemmer, tokenizer=tokenizer)

    def use_tokenizer_for(self, references: dict[str, ReferenceItem]) -> None:
        """With tokenizer "auto", score mostly non-Latin references with the Unicode tokenizer; the Unicode
        tokenizer stems by the references' language (summarizer.evaluation.tokenize.stemmer_description)."""
        texts = ["\n".join(reference) for item in references.values() for reference in item.references[:1]]
        name, notice = choose_tokenizer(texts, self.config.tokenizer)
        if name == "unicode":
            language = references_language(texts)
            self.build_scorer(name, language)
            stemming = stemmer_description(language, self.config.use_stemmer)
            self.tokenizer_notice = f"{notice} Stemming: {stemming}." if notice else None

    def describe(self) -> dict[str, Any]:
        return {
            "rouge": self.scorer.config(),
            "references": self.config.references,
            "multi_reference": "max (headline keys) and mean (*_mean keys)" if self.config.references == "all"
            else "first reference only",
            "rougeLsum_bullets_joined_by": "newline",
            "bootstrap": {"resamples": self.config.bootstrap_resamples, "confidence": self.config.confidence,
                          "seed": self.config.seed, "rng": "numpy.random.default_rng"},
            "summarizer_version": __version__,
            "python": platform.python_version(),
            "options": asdict(self.config),
        }

    def semantic_encoder(self):
        if self._semantic is None:
            from summarizer.evaluation.semantic import MiniLMEncoder

            self._semantic = MiniLMEncoder()
        return self._semantic

    def score_article(self, prediction: PredictionItem | None, reference: ReferenceItem) -> dict[str, Any]:
        bullets = prediction.bullets if prediction else []
        row: dict[str, Any] = {"id": reference.id, "n_bullets": len(bullets)}
        if prediction is None:
            row["missing"] = True
        elif prediction.error:
            row["error"] = prediction.error
        if prediction is not None and prediction.fallback:
            row["fallback"] = True
        references = reference.references if self.config.references == "all" else reference.references[:1]
        prediction_text = "\n".join(bullets)
        per_reference = [self.scorer.score("\n".join(ref), prediction_text) for ref in references]
        for rouge_type in ROUGE_TYPES:
            for part, index in (("p", 0), ("r", 1), ("f", 2)):
                values = [scores[rouge_type][index] for scores in per_reference]
                row[f"{rouge_type}_{part}"] = max(values)
                if len(values) > 1:
                    row[f"{rouge_type}_{part}_mean"] = sum(values) / len(values)
        first_reference = reference.references[0]
        if self.config.bullet_metrics:
            metrics = bullet_metrics(bullets, first_reference, scorer=self.scorer)
            row.update({k: v for k, v in metrics.items() if isinstance(v, int | float)})
        if self.config.faithfulness and reference.article and bullets:
            row.update({k: v for k, v in unsupported_items(bullets, reference.article).items()
                        if isinstance(v, int | float)})
            row.update(fragment_stats(reference.article, " ".join(bullets)))
        if self.config.semantic and bullets:
            from summarizer.evaluation.semantic import semantic_similarity

            row.update(semantic_similarity(bullets, first_reference, self.semantic_encoder()))
        return row

    def evaluate(self, predictions: dict[str, PredictionItem], references: dict[str, ReferenceItem]) -> EvalResult:
        self.use_tokenizer_for(references)
        per_article = [self.score_article(predictions.get(key), references[key]) for key in references]
        return self.summarize(per_article, predictions, references)

    def summarize(
        self, per_article: list[dict[str, Any]], predictions: dict[str, PredictionItem],
        references: dict[str, ReferenceItem],
    ) -> EvalResult:
        counts = {
            "articles": len(references),
            "missing_predictions": sum(1 for row in per_article if row.get("missing")),
            "failed_predictions": sum(1 for row in per_article if row.get("error")),
            # Scored as written, but they are Lead sentences, not the model's: reported so they are not
            # mistaken for the model's own output.
            "fallback_predictions": sum(1 for row in per_article if row.get("fallback")),
            "extra_predictions": len(set(predictions) - set(references)),
        }
        config = self.describe() | {"data_hash": data_hash(predictions, references), "counts": counts,
                                    "scoring_of_missing_or_failed": "empty summary (scores 0)"}
        return EvalResult(per_article, aggregate_scores(per_article, self.config), config, counts)


def numeric_keys(rows: Iterable[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                keys.setdefault(key, None)
    return list(keys)


def aggregate_scores(per_article: list[dict[str, Any]], config: EvalConfig) -> dict[str, dict[str, float]]:
    aggregates = {}
    for key in numeric_keys(per_article):
        values = [row[key] for row in per_article if isinstance(row.get(key), int | float)]
        interval = bootstrap_ci(values, n_resamples=config.bootstrap_resamples,
                                confidence=config.confidence, seed=config.seed)
        aggregates[key] = {"mean": interval["mean"], "low": interval["low"], "high": interval["high"],
                           "n": len(values)}
    return aggregates


def write_results(result: EvalResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "per_article.jsonl", "w", encoding="utf-8") as handle:
        for row in result.per_article:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = {"metrics": result.aggregates, "counts": result.counts, "config": result.config}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def format_table(result: EvalResult, keys: Iterable[str] = HEADLINE_METRICS) -> str:
    lines = [f"{'metric':<22} {'mean':>7}  {'95% CI':>17}"]
    for key in keys:
        if key in result.aggregates:
            agg = result.aggregates[key]
            scale = 100 if key.startswith("rouge") else 1
            mean, low, high = (agg[k] * scale for k in ("mean", "low", "high"))
            lines.append(f"{key:<22} {mean:7.2f}  [{low:6.2f}, {high:6.2f}]")
    return "\n".join(lines)
