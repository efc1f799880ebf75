"""The default model (`points`) over the dev set with each MiniLM engine: numpy, auto and torch-bert,
and torch-bert in bfloat16.

Each run is a fresh `summarizer run` over the SummEval dev set with the `points` spec and only
`encoder_engine` (and `encoder_dtype`) changed, its peak RSS from its rusage; the variants take turns in
ABBA rounds, every run's summaries are compared with the numpy engine's first run, and each variant's
ROUGE against the dev set's references is its first run's.

    .venv/bin/python eval/scripts/points_engines.py --out eval/points-engines.md
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from script_report import command, save

from summarizer.bench.coldstart import cli_command, run_with_rusage
from summarizer.bench.data import dev_set_path
from summarizer.bench.machine import describe_machine
from summarizer.bench.rounds import interleave
from summarizer.evaluation.harness import (
    EvalConfig,
    Evaluator,
    PredictionItem,
    ReferenceItem,
    load_predictions,
    load_references,
)
from summarizer.specs import resolve_spec

# variant -> (encoder_engine, encoder_dtype)
VARIANTS = {
    "numpy": ("numpy", "float32"),
    "auto": ("auto", "float32"),
    "torch-bert": ("torch-bert", "float32"),
    "torch-bert bfloat16": ("torch-bert", "bfloat16"),
}
ROUGE_KEYS = ("rouge1_f", "rouge2_f", "rougeLsum_f")


def rouge(predictions: dict[str, PredictionItem], references: dict[str, ReferenceItem]) -> dict[str, float]:
    config = EvalConfig(bootstrap_resamples=1, bullet_metrics=False, faithfulness=False)
    result = Evaluator(config).evaluate(predictions, references)
    return {key: 100 * result.aggregates[key]["mean"] for key in ROUGE_KEYS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    dev_set = dev_set_path()
    spec = resolve_spec("points").model_dump(mode="json", exclude_none=True)
    references = load_references(dev_set)
    # Article id -> bullets of the numpy engine's first run, which every run is compared with.
    reference: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="points-engines-") as scratch:
        specs, scores = {}, {}
        for number, (variant, (engine, dtype)) in enumerate(VARIANTS.items()):
            specs[variant] = Path(scratch) / f"points-{number}.yaml"
            options = {**spec["options"], "encoder_engine": engine, "encoder_dtype": dtype}
            specs[variant].write_text(yaml.safe_dump({**spec, "name": f"points-{number}", "options": options}))

        def run(variant: str) -> dict[str, Any]:
            out = specs[variant].with_suffix(".jsonl")
            out.unlink(missing_ok=True)
            code, seconds, peak = run_with_rusage(
                cli_command(str(specs[variant]), [str(dev_set)], "--text-field", "article", "--out", str(out)))
            if code != 0:
                raise SystemExit(f"{variant}: summarizer run exited {code}")
            predictions = load_predictions(out)
            summaries = {article_id: item.bullets for article_id, item in predictions.items()}
            if not reference:
                reference.update(summaries)
            if variant not in scores:  # each variant's first run
                scores[variant] = rouge(predictions, references)
            same = sum(summaries.get(article_id) == bullets for article_id, bullets in reference.items())
            return {"seconds": seconds, "peak_mib": peak, "same": same, "articles": len(summaries)}

        runs = interleave(list(VARIANTS), args.rounds, run)
    machine = describe_machine()
    numpy_seconds = statistics.median(run["seconds"] for run in runs["numpy"])
    lines = [
        "# The default model with each MiniLM engine", "",
        command("points_engines.py", f"--rounds {args.rounds}" if args.rounds != 2 else "", args.out)
        + f", started {started} on {machine.cpu_model}, {machine.physical_cores} physical cores: "
        f"`summarizer run {dev_set.name} --text-field article` with the `points` spec, only `encoder_engine` "
        f"(and `encoder_dtype`) changed; a fresh process per run, {args.rounds} ABBA rounds.", "",
        "| variant | wall s per run | median | vs numpy | peak RSS MB | same summaries as numpy's first run "
        "| R-1 | R-2 | R-Lsum |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, engine_runs in runs.items():
        median = statistics.median(run["seconds"] for run in engine_runs)
        walls = ", ".join(f"{run['seconds']:.1f}" for run in engine_runs)
        same = ", ".join(f"{run['same']}/{run['articles']}" for run in engine_runs)
        peak = max(run["peak_mib"] for run in engine_runs)
        rouges = " | ".join(f"{scores[engine][key]:.2f}" for key in ROUGE_KEYS)
        lines.append(f"| `{engine}` | {walls} | {median:.1f} | {numpy_seconds / median:.2f}x | {peak:.0f} | {same} "
                     f"| {rouges} |")
    lines += [
        "",
        "- Wall seconds are the whole process: imports, loading MiniLM, reading, summarizing and writing "
        "the dev set.",
        "- ROUGE F1 x 100 against the first reference (the rouge-score mode of our scorer, stemming), of each "
        "variant's first run.",
        "- Load average after each run: "
        + "; ".join(f"`{engine}` " + ", ".join(f"{run['load_average']:.1f}" for run in engine_runs)
                    for engine, engine_runs in runs.items()) + ".",
    ]
    save(lines, args.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
