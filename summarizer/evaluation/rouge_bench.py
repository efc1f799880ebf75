"""Speed and equality of our rouge-score mode against Google's rouge-score package on the same pairs."""

from __future__ import annotations

import json
import platform
import re
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from summarizer.evaluation.rouge import DEFAULT_ROUGE_TYPES, RougeScorer
from summarizer.evaluation.tokenize import clear_caches

# SummEval texts are tokenized with spaces around punctuation; one sentence per line gives rougeLsum
# real work, as when summaries are scored bullet by bullet.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def pairs_from_summeval(path: str | Path, limit: int = 10_000) -> list[tuple[str, str]]:
    """(prediction, reference) pairs: every system output against every reference, article by article."""
    pairs: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            references = ["\n".join(_SENTENCE_END.split(ref.strip())) for ref in record["references"]]
            for output in record["system_outputs"].values():
                prediction = "\n".join(_SENTENCE_END.split(output.strip()))
                pairs.extend((prediction, reference) for reference in references)
                if len(pairs) >= limit:
                    return pairs[:limit]
    return pairs


def _timed(score, pairs: Sequence[tuple[str, str]]) -> tuple[list, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    scores = [score(reference, prediction) for prediction, reference in pairs]
    return scores, time.perf_counter() - wall, time.process_time() - cpu


def benchmark_against_rouge_score(
    pairs: Sequence[tuple[str, str]],
    rouge_types: Sequence[str] = DEFAULT_ROUGE_TYPES,
    use_stemmer: bool = True,
) -> dict[str, Any]:
    """Time both implementations on `pairs` of (prediction, reference) and check the scores are identical.

    Ours starts with empty stem caches, so the time includes filling them.
    """
    from rouge_score import rouge_scorer

    google = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)
    google_scores, google_wall, google_cpu = _timed(google.score, pairs)
    clear_caches()
    ours = RougeScorer(rouge_types, mode="rouge-score", use_stemmer=use_stemmer)
    our_scores, our_wall, our_cpu = _timed(ours.score, pairs)

    mismatches = [
        index
        for index, (theirs, mine) in enumerate(zip(google_scores, our_scores))
        if theirs != mine  # Score tuples compare by value across the two NamedTuple classes
    ]
    return {
        "pairs": len(pairs),
        "rouge_types": list(rouge_types),
        # CPU time is what the comparison is about on a shared machine; wall time is reported too.
        "rouge_score_cpu_seconds": round(google_cpu, 3),
        "ours_cpu_seconds": round(our_cpu, 3),
        "speedup_cpu": round(google_cpu / our_cpu, 1) if our_cpu else None,
        "rouge_score_wall_seconds": round(google_wall, 3),
        "ours_wall_seconds": round(our_wall, 3),
        "speedup_wall": round(google_wall / our_wall, 1) if our_wall else None,
        "identical": not mismatches,
        "mismatches": len(mismatches),
        "first_mismatch": mismatches[0] if mismatches else None,
        "rouge_score_version": metadata.version("rouge-score"),
        "config": ours.config(),
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """python -m summarizer.evaluation.rouge_bench SUMMEVAL_JSONL [N_PAIRS]"""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m summarizer.evaluation.rouge_bench SUMMEVAL_JSONL [N_PAIRS]", file=sys.stderr)
        return 2
    pairs = pairs_from_summeval(args[0], int(args[1]) if len(args) > 1 else 10_000)
    print(json.dumps(benchmark_against_rouge_score(pairs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
