"""`summarizer meta-eval`: how well each registered metric agrees with human judgments on a dataset."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from summarizer.cli.evaluate import add_metric_options, metric_options, selected_metrics


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "meta-eval", help="correlate every metric with human scores (system and summary level, intervals, tests)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", required=True,
                        help="JSONL whose records carry references, system_outputs and human_scores (SummEval format)")
    parser.add_argument("--out", default="eval/meta", help="directory for meta_eval.json, .md and .html")
    parser.add_argument("--text-field", default="article", help="article text field in the dataset")
    parser.add_argument("--reference-set", choices=("first", "all"), default="all",
                        help="score against the first reference or all of them (SummEval used all 11)")
    parser.add_argument("--reference-combine", choices=("mean", "max"), default="mean",
                        help="with several references: mean over references (ROUGE-1.5.5's averaging) or the best")
    parser.add_argument("--rouge", choices=("rouge-score", "rouge155"), default="rouge-score",
                        help="ROUGE implementation mode")
    parser.add_argument("--no-stemmer", action="store_true", help="turn Porter stemming off")
    parser.add_argument("--limit-docs", type=int, default=None, help="use only the first N documents")
    parser.add_argument("--systems", nargs="+", default=None,
                        help="use only these systems (default: every system with human scores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the permutation test")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--permutations", type=int, default=1000, help="permutations of each paired test")
    parser.add_argument("--published", default=None,
                        help="JSON of a published correlation table to show beside ours (see eval/meta/summeval/)")
    add_metric_options(parser)
    parser.set_defaults(handler=handle_meta_eval)


def handle_meta_eval(args: argparse.Namespace) -> int:
    from summarizer.evaluation.harness import EvalConfig
    from summarizer.evaluation.meta_eval import MetaEvalSettings, load_meta_dataset, load_published, run_meta_eval
    from summarizer.evaluation.meta_report import markdown_report, write_meta_eval

    try:
        dataset = load_meta_dataset(Path(args.dataset), limit_docs=args.limit_docs, text_field=args.text_field,
                                    systems=args.systems)
        published = load_published(Path(args.published)) if args.published else None
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = EvalConfig(rouge_mode=args.rouge, use_stemmer=not args.no_stemmer, references=args.reference_set,
                        bootstrap_resamples=1, seed=args.seed, metrics=selected_metrics(args),
                        metric_options=metric_options(args))
    settings = MetaEvalSettings(resamples=args.resamples, permutations=args.permutations, seed=args.seed,
                                combine=args.reference_combine)
    print(f"scoring {len(dataset.systems)} systems x {len(dataset.documents)} documents", file=sys.stderr)
    from summarizer.evaluation.registry import MetricUnavailableError

    try:
        report = run_meta_eval(dataset, config, settings, published,
                               progress=lambda system: print(f"  scoring {system}", file=sys.stderr))
    except MetricUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = "summarizer " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "summarizer meta-eval"
    paths = write_meta_eval(report, Path(args.out), command)
    print(markdown_report(report, command))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
