"""`summarizer compare`: run several models on one dataset, evaluate all of them the same way, and
test each against the baseline (Lead-3 by default) with paired statistics.

Predictions are cached per (dataset content, model spec and options, bullet count, our source code,
the versions of the packages that shape outputs), so re-running a comparison after adding a model
only runs the new model, and a code or library change re-runs everything it could have changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarizer import __version__
from summarizer.evaluation.harness import (
    EvalConfig,
    EvalResult,
    Evaluator,
    PredictionItem,
    ReferenceItem,
    _as_bullets,
    load_predictions,
    load_references,
    read_jsonl,
)
from summarizer.evaluation.stats import paired_bootstrap, paired_permutation_test
from summarizer.provenance import OUTPUT_PACKAGES, content_sha256, installed_versions, source_fingerprint

SIGNIFICANCE_METRICS = ("rouge1_f", "rouge2_f", "rougeLsum_f")


@dataclass
class SystemResult:
    name: str
    kind: str  # "model" (run here) or "published" (outputs shipped with the dataset)
    result: EvalResult
    run: dict[str, Any] = field(default_factory=dict)  # throughput, timings, cache info
    significance: dict[str, dict[str, float]] = field(default_factory=dict)
    predictions: dict[str, PredictionItem] = field(default_factory=dict)  # for the report's explorer

    @property
    def rows(self) -> dict[str, dict[str, Any]]:
        return {row["id"]: row for row in self.result.per_article}


@dataclass
class Comparison:
    dataset: str
    baseline: str | None
    systems: list[SystemResult]
    config: dict[str, Any]
    references: dict[str, ReferenceItem] = field(default_factory=dict)
    tokenizer: Any = None  # the ROUGE tokenizer the systems were scored with (the explorer aligns with it)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def prediction_key_material(dataset_hash: str, spec_key: str, n_bullets: int, text_field: str) -> str:
    """Everything a model's predictions depend on besides its weights: the cache key's contents.

    Our source fingerprint is part of it because ``__version__`` does not change between commits: a
    fix to a backend, a prompt or bullet trimming must re-run the models, not reuse their old outputs.
    """
    return json.dumps({"dataset": dataset_hash, "spec": spec_key, "bullets": n_bullets, "text_field": text_field,
                       "version": __version__, "source": source_fingerprint(),
                       "packages": installed_versions(OUTPUT_PACKAGES)}, sort_keys=True)


# The parts of a cache key that name what was asked for; the rest (our version, source fingerprint and
# package versions) names the code that answered, which a later run replaces.
REQUEST_KEY_FIELDS = ("dataset", "spec", "bullets", "text_field")


def superseded_runs(cache_dir: Path, model_name: str, key_material: str) -> list[Path]:
    """Cached runs of the same request (dataset, spec, bullets, text field) made by other code: once a
    new run of that request is written they can never be reused again, so they are removed with it.
    Runs of other datasets, bullet counts or options stay."""
    wanted = json.loads(key_material)
    stale = []
    for manifest_path in sorted(cache_dir.glob(f"{safe_name(model_name)}-*.run.json")):
        try:
            key = json.loads(json.loads(manifest_path.read_text(encoding="utf-8"))["key"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not one of ours, or damaged: leave it to the user
        if key != wanted and all(key.get(name) == wanted[name] for name in REQUEST_KEY_FIELDS):
            stale.append(manifest_path)
    return stale


def remove_run(manifest_path: Path) -> None:
    predictions = manifest_path.with_name(manifest_path.name.removesuffix(".run.json") + ".jsonl")
    predictions.unlink(missing_ok=True)
    manifest_path.unlink(missing_ok=True)


def run_model_cached(
    model: str, dataset: Path, cache_dir: Path, n_bullets: int, ingest_options, dataset_hash: str
) -> tuple[Path, dict[str, Any]]:
    """Predictions for ``model`` on ``dataset``, reusing a cached run with the same key."""
    from summarizer.backends.registry import create_backend
    from summarizer.ingest import load_articles
    from summarizer.outputs import SummaryWriter
    from summarizer.pipeline import RunSettings, run
    from summarizer.specs import resolve_spec

    spec = resolve_spec(model)
    key_material = prediction_key_material(dataset_hash, spec.options_key(), n_bullets, ingest_options.text_field)
    key = hashlib.sha256(key_material.encode()).hexdigest()[:12]
    predictions_path = cache_dir / f"{safe_name(spec.name)}-{key}.jsonl"
    manifest_path = predictions_path.with_suffix(".run.json")
    if predictions_path.is_file() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return predictions_path, manifest | {"cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    backend = create_backend(spec)
    partial = predictions_path.with_suffix(".partial")
    started = time.perf_counter()
    with open(partial, "w", encoding="utf-8") as handle:
        writer = SummaryWriter(handle, "jsonl")
        # No lead fallback: a model is scored on what it said, failures count as empty summaries.
        settings = RunSettings(n_bullets=n_bullets, fallback="none", grounding=False)
        stats = run(load_articles([str(dataset)], ingest_options), backend, writer.write, settings)
    partial.replace(predictions_path)  # only complete runs are ever reused
    manifest = {
        "model": spec.name, "backend": spec.backend, "options": spec.options, "bullets": n_bullets,
        "articles": stats.articles, "failed": stats.failed, "seconds": round(stats.seconds, 3),
        "load_seconds": round(stats.load_seconds, 3),
        "articles_per_s": round(stats.articles / stats.seconds, 3) if stats.seconds else None,
        "wall_seconds": round(time.perf_counter() - started, 3), "key": key_material,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for stale in superseded_runs(cache_dir, spec.name, key_material):
        remove_run(stale)
    close = getattr(backend, "close", None)
    if callable(close):
        close()
    return predictions_path, manifest | {"cached": False}


def published_outputs(dataset: Path) -> dict[str, dict[str, PredictionItem]]:
    """Per-system predictions from a dataset's `system_outputs` field (e.g. SummEval's M0–M23)."""
    systems: dict[str, dict[str, PredictionItem]] = {}
    for record in read_jsonl(dataset):
        for system, output in (record.get("system_outputs") or {}).items():
            systems.setdefault(system, {})[str(record["id"])] = PredictionItem(str(record["id"]), _as_bullets(output))
    return systems


def paired_tests(system: EvalResult, baseline: EvalResult, seed: int, resamples: int) -> dict[str, dict]:
    """Paired bootstrap interval and permutation p-value of (system - baseline), per metric."""
    base_rows = {row["id"]: row for row in baseline.per_article}
    tests = {}
    for metric in SIGNIFICANCE_METRICS:
        pairs = [(row[metric], base_rows[row["id"]][metric]) for row in system.per_article
                 if row["id"] in base_rows and metric in row and metric in base_rows[row["id"]]]
        if len(pairs) < 2:
            continue
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        boot = paired_bootstrap(a, b, n_resamples=resamples, seed=seed)
        perm = paired_permutation_test(a, b, n_resamples=max(resamples, 10_000), seed=seed)
        tests[metric] = {"diff": boot["mean_diff"], "low": boot["low"], "high": boot["high"],
                         "p_bootstrap": boot["p_value"], "p_permutation": perm["p_value"], "n": len(pairs)}
    return tests


def compare_models(
    models: list[str],
    dataset: Path,
    out_dir: Path,
    cache_dir: Path | None = None,
    n_bullets: int = 3,
    ingest_options=None,
    eval_config: EvalConfig | None = None,
    baseline: str | None = "lead-3",
    include_published: bool = True,
    text_field: str = "article",
) -> Comparison:
    from summarizer.ingest import IngestOptions

    ingest_options = ingest_options or IngestOptions(text_field=text_field)
    eval_config = eval_config or EvalConfig()
    evaluator = Evaluator(eval_config)
    references = load_references(dataset, text_field=ingest_options.text_field)
    dataset_hash = content_sha256(dataset)
    systems: list[SystemResult] = []
    for model in models:
        predictions_path, run_info = run_model_cached(
            model, dataset, cache_dir or out_dir / "predictions", n_bullets, ingest_options, dataset_hash)
        predictions = load_predictions(predictions_path)
        result = evaluator.evaluate(predictions, references)
        systems.append(SystemResult(model, "model", result, run_info | {"predictions": str(predictions_path)},
                                    predictions=predictions))
    if include_published and dataset.suffix == ".jsonl":
        for name, predictions in sorted(published_outputs(dataset).items(), key=lambda kv: _natural(kv[0])):
            systems.append(SystemResult(name, "published", evaluator.evaluate(predictions, references),
                                        predictions=predictions))
    base = next((s for s in systems if s.name == baseline), None)
    if base is not None:
        for system in systems:
            if system is not base:
                system.significance = paired_tests(system.result, base.result, eval_config.seed,
                                                   eval_config.bootstrap_resamples)
    config = evaluator.describe() | {"dataset": str(dataset), "dataset_sha256": dataset_hash,
                                     "bullets": n_bullets, "baseline": baseline}
    return Comparison(str(dataset), baseline if base else None, systems, config, references,
                      evaluator.scorer.tokenizer)


def _natural(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))
