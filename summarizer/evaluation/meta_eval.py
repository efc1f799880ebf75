"""Meta-evaluation: how well does each metric agree with human judgments?

For a dataset whose records carry system outputs and human scores (SummEval's format:
``system_outputs`` {system: text}, ``human_scores`` {system: {dimension: score}}), every output is scored
with every selected metric family, and each headline key is correlated with each human dimension:

- system level: Kendall's tau between systems' mean metric scores and mean human scores (SummEval);
- summary level: per document, Kendall's tau and Spearman's rho across systems, averaged over documents
  (BARTScore, Bhandari et al. 2020);
- 95% intervals from a bootstrap that resamples systems and documents jointly (Deutsch, Dror & Roth 2021,
  "BOOT-BOTH"), seeded with numpy's default_rng;
- paired tests of "metric A agrees with humans better than metric B": a permutation test that swaps the
  two metrics' standardized scores cell by cell (their "PERM-BOTH"), and the bootstrap interval of the
  difference from the same joint resamples.

Steps: load_meta_dataset -> score_systems -> correlation_table -> paired_tests -> write_meta_eval.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from summarizer.evaluation.correlation import kendall_tau_b, spearman_rho
from summarizer.evaluation.harness import (
    EvalConfig,
    Evaluator,
    PredictionItem,
    ReferenceItem,
    _as_bullets,
    load_references,
    read_jsonl,
)

LEVELS = ("system_kendall", "summary_kendall", "summary_spearman")
LEVEL_TITLES = {"system_kendall": "system-level Kendall τ", "summary_kendall": "summary-level Kendall τ",
                "summary_spearman": "summary-level Spearman ρ"}
# Bootstrap resamples are evaluated this many at a time: summary-level correlations of a block need
# block x documents x systems^2 numbers in memory at once.
_BLOCK = 25


@dataclass
class MetaDataset:
    path: str
    sha256: str
    references: dict[str, ReferenceItem]
    systems: list[str]
    outputs: dict[str, dict[str, PredictionItem]]  # system -> doc id -> output
    dimensions: list[str]
    human: np.ndarray  # (systems, documents, dimensions)
    documents: list[str] = field(default_factory=list)


def load_meta_dataset(path: Path, limit_docs: int | None = None, text_field: str = "article",
                      systems: list[str] | None = None) -> MetaDataset:
    """Documents that carry outputs and human scores for the same systems (others are an error, by id)."""
    records = read_jsonl(path)
    references = load_references(path, text_field=text_field)
    usable = [r for r in records if r.get("system_outputs") and r.get("human_scores")]
    if not usable:
        raise ValueError(f"{path}: no record has both 'system_outputs' and 'human_scores'")
    if limit_docs:
        usable = usable[:limit_docs]
    available = sorted(usable[0]["human_scores"], key=_natural)
    if systems:
        unknown = [name for name in systems if name not in available]
        if unknown:
            raise ValueError(f"{path}: no human scores for systems {unknown}; available: {', '.join(available)}")
        systems = sorted(dict.fromkeys(systems), key=_natural)
    else:
        systems = available
    if len(systems) < 2:
        raise ValueError("meta-evaluation needs at least two systems to correlate")
    dimensions = sorted(next(iter(usable[0]["human_scores"].values())))
    human = np.full((len(systems), len(usable), len(dimensions)), np.nan)
    outputs: dict[str, dict[str, PredictionItem]] = {system: {} for system in systems}
    for d, record in enumerate(usable):
        doc_id = str(record["id"])
        missing = [s for s in systems if s not in record["system_outputs"] or s not in record["human_scores"]]
        if missing:
            raise ValueError(f"{path}: record {doc_id!r} lacks outputs or human scores for systems {missing}")
        for s, system in enumerate(systems):
            outputs[system][doc_id] = PredictionItem(doc_id, _as_bullets(record["system_outputs"][system]))
            for k, dimension in enumerate(dimensions):
                human[s, d, k] = float(record["human_scores"][system][dimension])
    documents = [str(r["id"]) for r in usable]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return MetaDataset(str(path), digest, {doc: references[doc] for doc in documents}, systems, outputs,
                       dimensions, human, documents)


def _natural(name: str) -> tuple:
    import re

    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def score_systems(dataset: MetaDataset, config: EvalConfig, combine: str = "mean",
                  progress=None) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, dict[str, int]]]:
    """{metric key: (systems, documents) scores} for every headline key, the evaluator's configuration,
    and per-system counts of values a metric could not produce (NaN in the matrices)."""
    evaluator = Evaluator(config)
    keys = [column.key for column in evaluator.columns()]
    matrices = {key: np.full((len(dataset.systems), len(dataset.documents)), np.nan) for key in keys}
    missing: dict[str, dict[str, int]] = {}
    for s, system in enumerate(dataset.systems):
        if progress:
            progress(system)
        result = evaluator.evaluate(dataset.outputs[system], dataset.references)
        rows = {row["id"]: row for row in result.per_article}
        for d, doc in enumerate(dataset.documents):
            row = rows[doc]
            for key in keys:
                # With several references, "mean" reads the mean over references (the ROUGE-1.5.5 way of
                # using them), "max" the best reference (rouge-score's score_multi).
                value = row.get(f"{key}_mean", row.get(key)) if combine == "mean" else row.get(key)
                if value is not None:
                    matrices[key][s, d] = value
        for key in keys:
            count = int(np.isnan(matrices[key][s]).sum())
            if count:
                missing.setdefault(key, {})[system] = count
    return matrices, evaluator.describe(), missing


def correlations(metric: np.ndarray, human: np.ndarray, levels: tuple[str, ...] = LEVELS) -> dict[str, np.ndarray]:
    """The correlations named in `levels` for stacked resamples: metric and human are (resamples, systems,
    documents)."""
    values: dict[str, np.ndarray] = {}
    r, n, m = metric.shape
    with _quiet():
        if "system_kendall" in levels:
            values["system_kendall"] = kendall_tau_b(np.nanmean(metric, axis=2), np.nanmean(human, axis=2))
        per_doc_metric = metric.transpose(0, 2, 1).reshape(r * m, n)
        per_doc_human = human.transpose(0, 2, 1).reshape(r * m, n)
        if "summary_kendall" in levels:
            values["summary_kendall"] = np.nanmean(kendall_tau_b(per_doc_metric, per_doc_human).reshape(r, m), axis=1)
        if "summary_spearman" in levels:
            values["summary_spearman"] = np.nanmean(spearman_rho(per_doc_metric, per_doc_human).reshape(r, m), axis=1)
    return values


class _quiet:
    """numpy warns on all-NaN slices (a document no system could be judged on); they are NaN by design."""

    def __enter__(self):
        import warnings

        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


def resample_indices(n_systems: int, n_documents: int, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Joint bootstrap of systems and documents (BOOT-BOTH), one draw shared by every metric so that
    differences between metrics are paired."""
    rng = np.random.default_rng(seed)
    systems = rng.integers(0, n_systems, size=(resamples, n_systems))
    documents = rng.integers(0, n_documents, size=(resamples, n_documents))
    return systems, documents


def _resampled(matrix: np.ndarray, systems: np.ndarray, documents: np.ndarray) -> np.ndarray:
    return matrix[systems[:, :, None], documents[:, None, :]]


def bootstrap_correlations(metric: np.ndarray, human: np.ndarray, systems: np.ndarray,
                           documents: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {level: [] for level in LEVELS}
    for start in range(0, systems.shape[0], _BLOCK):
        block_s, block_d = systems[start:start + _BLOCK], documents[start:start + _BLOCK]
        values = correlations(_resampled(metric, block_s, block_d), _resampled(human, block_s, block_d))
        for level in LEVELS:
            out[level].append(values[level])
    return {level: np.concatenate(parts) for level, parts in out.items()}


def _interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return None, None
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _number(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


@dataclass
class MetaEvalSettings:
    resamples: int = 1000
    permutations: int = 1000
    confidence: float = 0.95
    seed: int = 0
    combine: str = "mean"


def correlation_table(matrices: dict[str, np.ndarray], human: np.ndarray, dimensions: list[str],
                      settings: MetaEvalSettings) -> tuple[dict[str, Any], dict[tuple[str, str], dict]]:
    """{key: {dimension: {level: {value, low, high}}}} and the bootstrap draws, kept for paired intervals."""
    n_systems, n_documents = human.shape[:2]
    systems, documents = resample_indices(n_systems, n_documents, settings.resamples, settings.seed)
    table: dict[str, Any] = {}
    draws: dict[tuple[str, str], dict] = {}
    for key, matrix in matrices.items():
        table[key] = {}
        for k, dimension in enumerate(dimensions):
            observed = correlations(matrix[None], human[None, :, :, k])
            boot = bootstrap_correlations(matrix, human[:, :, k], systems, documents)
            draws[(key, dimension)] = boot
            cell = {}
            for level in LEVELS:
                low, high = _interval(boot[level], settings.confidence)
                cell[level] = {"value": _number(observed[level][0]), "low": low, "high": high}
            table[key][dimension] = cell
    return table, draws


def _standardized(matrix: np.ndarray) -> np.ndarray:
    """z-scores over all cells: swapping two metrics' scores is only fair on a common scale."""
    spread = np.nanstd(matrix)
    return (matrix - np.nanmean(matrix)) / (spread if spread > 0 else 1.0)


def permutation_test(a: np.ndarray, b: np.ndarray, human: np.ndarray, level: str, permutations: int,
                     seed: int) -> float:
    """Two-sided p-value of corr(a, human) - corr(b, human) == 0 (Deutsch et al. 2021, PERM-BOTH): each
    (system, document) cell's two standardized scores are swapped with probability 1/2."""
    za, zb = _standardized(a), _standardized(b)
    levels = (level,)
    observed = (correlations(za[None], human[None], levels)[level][0]
                - correlations(zb[None], human[None], levels)[level][0])
    if np.isnan(observed):
        return float("nan")
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, permutations, _BLOCK):
        count = min(_BLOCK, permutations - start)
        swap = rng.random((count, *a.shape)) < 0.5
        left = np.where(swap, zb[None], za[None])
        right = np.where(swap, za[None], zb[None])
        stacked_human = np.broadcast_to(human[None], left.shape)
        delta = correlations(left, stacked_human, levels)[level] - correlations(right, stacked_human, levels)[level]
        hits += int(np.count_nonzero(np.abs(delta) >= abs(observed) - 1e-12))
    return (hits + 1) / (permutations + 1)


def paired_tests(matrices: dict[str, np.ndarray], human: np.ndarray, dimensions: list[str],
                 table: dict[str, Any], draws: dict[tuple[str, str], dict], settings: MetaEvalSettings,
                 levels: tuple[str, ...] = ("system_kendall", "summary_kendall")) -> list[dict[str, Any]]:
    """The best metric of each (dimension, level) against every other: is it significantly better?"""
    tests = []
    for k, dimension in enumerate(dimensions):
        for level in levels:
            ranked = sorted((key for key in matrices if table[key][dimension][level]["value"] is not None),
                            key=lambda key: table[key][dimension][level]["value"], reverse=True)
            if len(ranked) < 2:
                continue
            best = ranked[0]
            for other in ranked[1:]:
                difference = draws[(best, dimension)][level] - draws[(other, dimension)][level]
                low, high = _interval(difference, settings.confidence)
                p_value = permutation_test(matrices[best], matrices[other], human[:, :, k], level,
                                           settings.permutations, settings.seed)
                tests.append({
                    "dimension": dimension, "level": level, "a": best, "b": other,
                    "difference": table[best][dimension][level]["value"] - table[other][dimension][level]["value"],
                    "low": low, "high": high, "p_permutation": _number(p_value),
                    "p_bootstrap_one_sided": float(np.mean(difference[~np.isnan(difference)] <= 0))
                    if np.any(~np.isnan(difference)) else None,
                })
    return tests


def run_meta_eval(dataset: MetaDataset, config: EvalConfig, settings: MetaEvalSettings,
                  published: dict[str, Any] | None = None, progress=None) -> dict[str, Any]:
    matrices, scorer_config, missing = score_systems(dataset, config, settings.combine, progress)
    table, draws = correlation_table(matrices, dataset.human, dataset.dimensions, settings)
    tests = paired_tests(matrices, dataset.human, dataset.dimensions, table, draws, settings)
    with _quiet():  # a system with no value at all has no mean (None in the JSON, not NaN)
        system_means = {key: {system: _number(round(float(value), 6)) for system, value
                              in zip(dataset.systems, np.nanmean(matrix, axis=1))}
                        for key, matrix in matrices.items()}
    human_means = {dimension: dict(zip(dataset.systems, dataset.human[:, :, k].mean(axis=1).round(6).tolist()))
                   for k, dimension in enumerate(dataset.dimensions)}
    report = {
        "config": {
            "dataset": dataset.path, "dataset_sha256": dataset.sha256, "documents": len(dataset.documents),
            "systems": dataset.systems, "dimensions": dataset.dimensions,
            "references_per_document": sorted({len(r.references) for r in dataset.references.values()}),
            "reference_set": config.references, "multi_reference_combine": settings.combine,
            "correlations": {
                "system_kendall": "Kendall tau-b between systems' mean metric and mean human scores",
                "summary_kendall": "per document Kendall tau-b across systems, averaged over documents",
                "summary_spearman": "per document Spearman rho across systems, averaged over documents",
                "implementation": "summarizer.evaluation.correlation (numpy)",
            },
            "bootstrap": {"resamples": settings.resamples, "confidence": settings.confidence, "seed": settings.seed,
                          "method": "percentile; systems and documents resampled jointly (Deutsch et al. 2021)",
                          "rng": "numpy.random.default_rng"},
            "paired_test": {"permutations": settings.permutations, "seed": settings.seed,
                            "method": "swap standardized scores per (system, document) cell (Deutsch et al. 2021 "
                                      "PERM-BOTH); bootstrap interval of the difference from the same resamples"},
            "scoring": scorer_config,
        },
        "correlations": table,
        "paired_tests": tests,
        "missing_values": missing,
        "system_means": {"metrics": system_means, "human": human_means},
    }
    if published:
        report["published"] = compare_published(table, published)
    return report


def compare_published(table: dict[str, Any], published: dict[str, Any]) -> dict[str, Any]:
    """Ours beside a published table: {"source": ..., "level": ..., "rows": {label: {"ours": key,
    "values": {dimension: value}}}} -> rows with both numbers and their difference."""
    level = published.get("level", "system_kendall")
    rows = []
    for label, entry in published["rows"].items():
        ours_key = entry["ours"]
        for dimension, theirs in entry["values"].items():
            cell = table.get(ours_key, {}).get(dimension, {}).get(level, {})
            ours, low, high = cell.get("value"), cell.get("low"), cell.get("high")
            rows.append({"published": label.strip(), "ours": ours_key, "dimension": dimension, "theirs": theirs,
                         "value": ours, "low": low, "high": high,
                         "difference": None if ours is None else ours - theirs,
                         "inside_interval": None if low is None else bool(low <= theirs <= high),
                         "note": entry.get("notes", {}).get(dimension, entry.get("note", ""))})
    return {"source": published.get("source", ""), "setup": published.get("setup", ""), "level": level,
            "rows": rows}


def load_published(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
