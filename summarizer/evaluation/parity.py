"""How closely each ROUGE mode reproduces the official ROUGE-1.5.5 numbers of the parity file.

The file (see shared/README.md) holds 1,200 (document, system) pairs with the sentences exactly as they
were scored and the official per-document P/R/F of ROUGE-1, ROUGE-2 and ROUGE-L from ROUGE-1.5.5.pl
(`-c 95 -n 2 -a -r 1000 -m -d` through pyrouge).

    python -m summarizer.evaluation.parity [PATH]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from summarizer.evaluation.rouge import RougeScorer, Score
from summarizer.evaluation.tokenize import Rouge155Tokenizer
from summarizer.paths import shared_data_dir

PARITY_FILE = "rouge155_parity_dev.jsonl"
# The official numbers are printed with 5 decimals; agreeing within 0.0005 means no paper reporting
# ROUGE in percent with 2 decimals could tell the two apart (the criterion of shared/README.md).
TOLERANCE = 0.0005
# Differences of exactly 0.0005 in decimal are a hair above it in binary floating point.
_FLOAT_SLACK = 1e-12
_TYPES = ("rouge1", "rouge2", "rougeLsum")  # ROUGE-1.5.5's ROUGE-L is the summary-level LCS: rougeLsum
_OFFICIAL_KEYS = {"rouge1": "rouge_1", "rouge2": "rouge_2", "rougeLsum": "rouge_l"}


def load_parity_records(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def official_scores(record: dict[str, Any]) -> dict[str, Score]:
    official = record["rouge155"]
    return {
        rouge_type: Score(official[f"{key}_precision"], official[f"{key}_recall"], official[f"{key}_f_score"])
        for rouge_type, key in _OFFICIAL_KEYS.items()
    }


def texts(record: dict[str, Any]) -> tuple[str, str]:
    """(target, prediction) with one sentence per line, as the sentences were given to ROUGE."""
    return "\n".join(record["reference_sentences"]), "\n".join(record["prediction_sentences"])


def _close(ours: float, official: float) -> bool:
    return abs(ours - official) <= TOLERANCE + _FLOAT_SLACK


def compare_mode(records: Sequence[dict[str, Any]], scorer: RougeScorer) -> dict[str, Any]:
    """Share of pairs within TOLERANCE of the official F (ROUGE-1 and -2 together; ROUGE-L alone)."""
    r1_r2 = rouge_l = exact = 0
    r1_abs_diff = 0.0
    misses: list[str] = []
    for record in records:
        ours = scorer.score(*texts(record))
        official = official_scores(record)
        both = _close(ours["rouge1"].fmeasure, official["rouge1"].fmeasure) and _close(
            ours["rouge2"].fmeasure, official["rouge2"].fmeasure
        )
        r1_r2 += both
        rouge_l += _close(ours["rougeLsum"].fmeasure, official["rougeLsum"].fmeasure)
        exact += all(tuple(ours[t]) == tuple(official[t]) for t in _TYPES)
        r1_abs_diff += abs(ours["rouge1"].fmeasure - official["rouge1"].fmeasure)
        if not both and len(misses) < 10:
            misses.append(f"{record['doc']}|{record['system']}")
    pairs = len(records)
    return {
        "pairs": pairs,
        "r1_r2_f_match": r1_r2 / pairs,
        "rl_f_match": rouge_l / pairs,
        "exact_prf_match": exact / pairs,
        "mean_abs_diff_r1_f_points": 100 * r1_abs_diff / pairs,
        "first_r1_r2_misses": misses,
        "config": scorer.config(),
    }


def identical_to_rouge_score(records: Sequence[dict[str, Any]], scorer: RougeScorer) -> float | None:
    """Share of pairs where `scorer` gives exactly Google's rouge-score numbers (None if not installed)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        return None
    google = rouge_scorer.RougeScorer(list(scorer.rouge_types), use_stemmer=scorer.use_stemmer)
    same = sum(google.score(*texts(record)) == scorer.score(*texts(record)) for record in records)
    return same / len(records)


def run_parity(path: str | Path) -> dict[str, Any]:
    """Both modes against the official numbers; rouge-score mode also against Google's package."""
    records = load_parity_records(path)
    if not records:
        raise ValueError(f"{path}: no records")
    rouge155 = RougeScorer(_TYPES, mode="rouge155", use_stemmer=True)
    rouge_score = RougeScorer(_TYPES, mode="rouge-score", use_stemmer=True)
    # The same script without its WordNet exception table shows what that table is worth.
    without_exceptions = RougeScorer(_TYPES, mode="rouge155", tokenizer=Rouge155Tokenizer(exceptions={}))
    report = {
        "path": str(path),
        "pairs": len(records),
        "tolerance": TOLERANCE,
        "modes": {
            "rouge155": compare_mode(records, rouge155),
            "rouge155-no-exceptions": compare_mode(records, without_exceptions),
            "rouge-score": compare_mode(records, rouge_score),
        },
    }
    report["modes"]["rouge-score"]["identical_to_rouge_score_package"] = identical_to_rouge_score(records, rouge_score)
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"ROUGE-1.5.5 parity: {report['path']} ({report['pairs']} pairs, |diff| <= {report['tolerance']})",
        f"{'mode':<22} {'R1&R2 F':>8} {'RL F':>8} {'exact P/R/F':>12} {'mean|dR1 F|':>12} {'= rouge-score pkg':>18}",
    ]
    for mode, result in report["modes"].items():
        same = result.get("identical_to_rouge_score_package")
        same_text = "-" if same is None else f"{100 * same:.1f}%"
        lines.append(
            f"{mode:<22} {100 * result['r1_r2_f_match']:>7.1f}% {100 * result['rl_f_match']:>7.1f}% "
            f"{100 * result['exact_prf_match']:>11.1f}% {result['mean_abs_diff_r1_f_points']:>9.3f} pt {same_text:>18}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else shared_data_dir() / PARITY_FILE
    if not path.is_file():
        print(f"parity file {path} not found (pass its path or set SUMMARIZER_DATA_DIR)", file=sys.stderr)
        return 2
    try:
        report = run_parity(path)
    except ModuleNotFoundError as error:  # rouge155 mode without the WordNet exception lists
        print(error, file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
