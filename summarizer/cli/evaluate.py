"""`summarizer eval` and `summarizer compare`: score predictions and compare models."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from summarizer.evaluation.harness import EvalConfig, Evaluator, format_table, load_predictions, load_references
from summarizer.evaluation.harness import write_results as write_eval_results


def add_eval_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scoring")
    group.add_argument("--rouge", choices=("rouge-score", "rouge155"), default="rouge-score",
                       help="rouge-score: identical to Google's package; rouge155: the official ROUGE-1.5.5 script")
    group.add_argument("--tokenizer", choices=("auto", "default", "unicode"), default="auto",
                       help="unicode scores Cyrillic, CJK and accented text instead of dropping it; auto (the "
                       "default) picks unicode for mostly non-Latin references, with a notice")
    group.add_argument("--no-stemmer", action="store_true", help="turn Porter stemming off")
    group.add_argument("--reference-set", choices=("first", "all"), default="first",
                       help="first reference only, or all (max and mean over references)")
    group.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    group.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    group.add_argument("--semantic", action="store_true", help="add MiniLM semantic similarity (offline)")


def eval_config(args: argparse.Namespace) -> EvalConfig:
    return EvalConfig(rouge_mode=args.rouge, tokenizer=args.tokenizer, use_stemmer=not args.no_stemmer,
                      references=args.reference_set, seed=args.seed, bootstrap_resamples=args.resamples,
                      semantic=args.semantic)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="score predictions against reference bullets")
    parser.add_argument("--predictions", required=True, help="JSONL from `summarizer run` (id + bullets/summary)")
    parser.add_argument("--references", dest="reference_path", required=True,
                        help="JSONL with id + reference_bullets/references, or seed files")
    parser.add_argument("--text-field", default="article", help="article text field in the references JSONL")
    parser.add_argument("--out", help="directory for per_article.jsonl and summary.json")
    add_eval_options(parser)
    parser.set_defaults(handler=handle_eval)

    compare = subparsers.add_parser("compare", help="run several models on a dataset and compare them")
    compare.add_argument("--models", nargs="+", required=True)
    compare.add_argument("--dataset", required=True, help="JSONL dataset with reference bullets")
    compare.add_argument("--text-field", default="article")
    compare.add_argument("--bullets", type=int, default=3)
    compare.add_argument("--baseline", default="lead-3", help="system the others are tested against")
    compare.add_argument("--no-published", action="store_true", help="skip the dataset's system_outputs")
    compare.add_argument("--out", default="eval/compare", help="directory for leaderboard.* and report.html")
    compare.add_argument("--cache", help="where model predictions are cached (default: OUT/predictions)")
    add_eval_options(compare)
    compare.set_defaults(handler=handle_compare)

    parity = subparsers.add_parser("eval-parity", help="ROUGE-1.5.5 parity of both ROUGE modes on the parity file")
    parity.add_argument("path", nargs="?", help="parity JSONL (default: shared data dir)")
    parity.set_defaults(handler=handle_parity)


def handle_eval(args: argparse.Namespace) -> int:
    try:
        predictions = load_predictions(Path(args.predictions))
        references = load_references(Path(args.reference_path), text_field=args.text_field)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from summarizer.evaluation.report import rouge_description

    evaluator = Evaluator(eval_config(args))
    result = evaluator.evaluate(predictions, references)
    if evaluator.tokenizer_notice:
        print(f"note: {evaluator.tokenizer_notice}", file=sys.stderr)
    print(format_table(result))
    print(f"articles {result.counts['articles']}, missing predictions {result.counts['missing_predictions']}, "
          f"failed {result.counts['failed_predictions']}, lead fallbacks {result.counts['fallback_predictions']}")
    if result.counts["fallback_predictions"]:
        print(f"note: {result.counts['fallback_predictions']} predictions are Lead sentences that `summarizer run` "
              "put in where the model wrote no usable bullet; they are scored as written")
    print(f"ROUGE: {rouge_description(result.config['rouge'])}")
    if args.out:
        write_eval_results(result, Path(args.out))
        print(f"wrote {args.out}/per_article.jsonl and {args.out}/summary.json")
    return 0


def handle_compare(args: argparse.Namespace) -> int:
    from summarizer.evaluation.compare import compare_models
    from summarizer.evaluation.report import markdown_leaderboard, write_leaderboard
    from summarizer.ingest import IngestOptions

    command = "summarizer " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "summarizer compare"
    comparison = compare_models(
        args.models, Path(args.dataset), Path(args.out), cache_dir=Path(args.cache) if args.cache else None,
        n_bullets=args.bullets,
        ingest_options=IngestOptions(text_field=args.text_field), eval_config=eval_config(args),
        baseline=args.baseline, include_published=not args.no_published)
    paths = write_leaderboard(comparison, Path(args.out), command)
    print(markdown_leaderboard(comparison, command))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def handle_parity(args: argparse.Namespace) -> int:
    from summarizer.evaluation.parity import main as parity_main

    return parity_main([args.path] if args.path else [])
