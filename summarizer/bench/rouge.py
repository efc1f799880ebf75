"""ROUGE scoring speed: Google's rouge-score against our scorer on the same (prediction, reference)
pairs, with every score checked for equality. The timing and comparison are
``summarizer.evaluation.rouge_bench.benchmark_against_rouge_score``; this section runs it in fresh
processes (empty caches each time), repeats it, and reports the median speedup."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from summarizer.bench.child import run_child


def rouge_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: one timed comparison over the first ``pairs`` pairs of the dev set."""
    from summarizer.evaluation.rouge_bench import benchmark_against_rouge_score, pairs_from_summeval

    pairs = pairs_from_summeval(payload["dev_set"], payload["pairs"])
    return benchmark_against_rouge_score(pairs)


def run_rouge(dev_set: Path, n_pairs: int = 10_000, repeats: int = 2) -> dict[str, Any]:
    runs = [run_child("summarizer.bench.rouge:rouge_worker", {"dev_set": str(dev_set), "pairs": n_pairs})
            for _ in range(max(1, repeats))]
    first = runs[0]
    return {
        "pairs": first["pairs"],
        "rouge_types": first["rouge_types"],
        "repeats": len(runs),
        "rouge_score_cpu_seconds": statistics.median(r["rouge_score_cpu_seconds"] for r in runs),
        "ours_cpu_seconds": statistics.median(r["ours_cpu_seconds"] for r in runs),
        "rouge_score_wall_seconds": statistics.median(r["rouge_score_wall_seconds"] for r in runs),
        "ours_wall_seconds": statistics.median(r["ours_wall_seconds"] for r in runs),
        "speedup_cpu": statistics.median(r["speedup_cpu"] or 0.0 for r in runs),
        "speedup_wall": statistics.median(r["speedup_wall"] or 0.0 for r in runs),
        "speedups_wall": [r["speedup_wall"] for r in runs],
        "identical": all(r["identical"] for r in runs),
        "mismatches": max(r["mismatches"] for r in runs),
        "rouge_score_version": first["rouge_score_version"],
        "config": first["config"],
    }
