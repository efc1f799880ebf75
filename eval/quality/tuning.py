"""Shared helpers for the quality experiments: the dev set, a disk-cached sentence encoder, and
scoring extractive settings exactly as `summarizer run` + `summarizer eval` would.

Each setting runs through the real extractive backend and the real bullet post-processing
(``summarizer.pipeline.summarize_articles``), and is scored with the project's RougeScorer in
rouge-score mode (Porter stemming, first reference, bullets joined by newlines for ROUGE-Lsum).
Only the MiniLM sentence vectors are cached (on disk, keyed by the sentence text), which makes a
grid of hundreds of settings cost seconds instead of hours on a shared CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from summarizer.articles import Article  # noqa: E402
from summarizer.backends.registry import create_backend  # noqa: E402
from summarizer.config import load_config  # noqa: E402
from summarizer.evaluation.bullet_metrics import bullet_metrics  # noqa: E402
from summarizer.evaluation.faithfulness import unsupported_items  # noqa: E402
from summarizer.evaluation.rouge import RougeScorer  # noqa: E402
from summarizer.paths import PROJECT_ROOT as PACKAGE_ROOT  # noqa: E402
from summarizer.pipeline import RunSettings, summarize_articles  # noqa: E402
from summarizer.specs import ModelSpec, resolve_spec  # noqa: E402

DEFAULT_DEV = Path(os.environ.get("SUMMARIZER_DATA_DIR", PACKAGE_ROOT.parent / "shared" / "data")) / (
    "summeval_cnndm100.jsonl"
)
DEFAULT_CACHE = Path(os.environ.get("SUMMARIZER_QUALITY_CACHE", "/tmp/summarizer_quality_cache"))
METRICS = ("rouge1", "rouge2", "rougeLsum")


@dataclass
class DevItem:
    article: Article
    reference: list[str]  # the first reference, one bullet per element


def load_dev(path: Path = DEFAULT_DEV) -> list[DevItem]:
    items = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                items.append(DevItem(Article(id=row["id"], text=row["article"]), list(row["reference_bullets"])))
    return items


class CachedEncoder:
    """The packaged MiniLM encoder with a disk cache of sentence vectors (loaded only on a miss)."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE):
        self.path = cache_dir / "minilm_vectors.npz"
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as stored:
                self.vectors = {key: stored[key] for key in stored.files}
        self._encoder = None
        self.dirty = False

    @staticmethod
    def key(sentence: str) -> str:
        return hashlib.sha1(sentence.encode("utf-8")).hexdigest()

    def encode(self, sentences: list[str]) -> np.ndarray:
        missing = [s for s in dict.fromkeys(sentences) if self.key(s) not in self.vectors]
        if missing:
            if self._encoder is None:
                from summarizer.extractive.embeddings import SentenceEncoder

                self._encoder = SentenceEncoder()
            for sentence, vector in zip(missing, self._encoder.encode(missing)):
                self.vectors[self.key(sentence)] = vector
            self.dirty = True
        if not sentences:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.vectors[self.key(s)] for s in sentences])

    def save(self) -> None:
        if self.dirty:
            tmp = self.path.with_name(self.path.stem + ".tmp.npz")
            np.savez(tmp, **self.vectors)
            tmp.replace(self.path)
            self.dirty = False


def make_backend(options: dict[str, Any], encoder: CachedEncoder | None = None, name: str = "candidate"):
    backend = create_backend(ModelSpec(name=name, backend="extractive", options=options))
    if options.get("method") == "embedding":
        backend.encoder = encoder or CachedEncoder()
        backend._loaded = True  # the cached encoder stands in for load()
    return backend


def summarize(backend, items: list[DevItem], n_bullets: int) -> list[list[str]]:
    settings = RunSettings.from_config(load_config(), n_bullets=n_bullets)
    articles = [item.article for item in items]
    return [summary.bullets for summary in summarize_articles(articles, backend, settings)]


_SCORER = RougeScorer(rouge_types=METRICS, mode="rouge-score", use_stemmer=True)


def rouge_rows(predictions: list[list[str]], items: list[DevItem]) -> np.ndarray:
    """Per-article F1 x 100, one row per article, columns METRICS."""
    rows = []
    for bullets, item in zip(predictions, items):
        scores = _SCORER.score("\n".join(item.reference), "\n".join(bullets))
        rows.append([scores[metric].fmeasure * 100 for metric in METRICS])
    return np.array(rows)


def redundancy_rows(predictions: list[list[str]]) -> np.ndarray:
    """Per summary, the mean pairwise ROUGE-1 F between its bullets (bullet_metrics' redundancy_mean)."""
    values = []
    for bullets in predictions:
        pairs = [_SCORER.score(a, b)["rouge1"].fmeasure for i, a in enumerate(bullets) for b in bullets[i + 1 :]]
        values.append(sum(pairs) / len(pairs) if pairs else 0.0)
    return np.array(values)


def extra_rows(predictions: list[list[str]], items: list[DevItem]) -> dict[str, float]:
    """Mean bullet recall, redundancy, unsupported items per bullet and words per bullet."""
    recall, redundancy, unsupported, words = [], [], [], []
    for bullets, item in zip(predictions, items):
        metrics = bullet_metrics(bullets, item.reference, scorer=_SCORER)
        recall.append(metrics["bullet_recall"])
        redundancy.append(metrics["redundancy_mean"])
        unsupported.append(unsupported_items(bullets, item.article.text)["unsupported_per_bullet"])
        words.append(np.mean([len(b.split()) for b in bullets]) if bullets else 0.0)
    return {"bullet_recall": float(np.mean(recall)), "redundancy_mean": float(np.mean(redundancy)),
            "unsupported_per_bullet": float(np.mean(unsupported)), "words_per_bullet": float(np.mean(words))}


def evaluate_options(options: dict[str, Any], items: list[DevItem], n_bullets: int = 3,
                     encoder: CachedEncoder | None = None) -> tuple[np.ndarray, list[list[str]]]:
    predictions = summarize(make_backend(options, encoder), items, n_bullets)
    return rouge_rows(predictions, items), predictions


def spec_options(name: str) -> dict[str, Any]:
    return dict(resolve_spec(name).options)


def folds(n_items: int, k: int = 5, seed: int = 0) -> list[np.ndarray]:
    """k disjoint folds of article indices, shuffled by a fixed seed."""
    order = np.random.default_rng(seed).permutation(n_items)
    return [np.sort(part) for part in np.array_split(order, k)]


def objective(rows: np.ndarray) -> float:
    """What settings are chosen by: the mean of ROUGE-2 and ROUGE-Lsum F (the acceptance metrics)."""
    return float((rows[:, 1] + rows[:, 2]).mean() / 2)


def load_seed_items(seeds: Path = PACKAGE_ROOT / "seeds") -> list[DevItem]:
    from summarizer.ingest import IngestOptions, load_articles

    return [DevItem(article, list(article.reference_bullets))
            for article in load_articles([str(seeds)], IngestOptions()) if article.reference_bullets]


def seed_report(options: dict[str, Any], encoder: CachedEncoder | None = None, n_bullets: int = 5) -> dict[str, Any]:
    """ROUGE-1 F (x 100) and bullet recall on the seed article(s) against their human bullets."""
    items = load_seed_items()
    predictions = summarize(make_backend(options, encoder), items, n_bullets)
    rows = rouge_rows(predictions, items)
    return {"rouge1": float(rows[:, 0].mean()), "rouge2": float(rows[:, 1].mean()),
            "rougeLsum": float(rows[:, 2].mean()), **extra_rows(predictions, items), "bullets": predictions}
