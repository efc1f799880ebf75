"""`summarizer eval` and `summarizer compare`: score predictions and compare models.

The library modules (numpy, the harness, the backends) are imported inside the handlers, so that
building the parser stays light.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from summarizer.evaluation.registry import metric_names

# Ids shown when predictions and references do not line up: enough to recognise the pattern.
SHOWN_IDS = 5


def add_metric_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("metrics (from the metric registry)")
    group.add_argument("--metrics", nargs="+", choices=metric_names(), metavar="FAMILY", default=None,
                       help=f"metric families to run, any of: {', '.join(metric_names())} "
                            "(default: every family that needs no model or server)")
    group.add_argument("--semantic", action="store_true", help="add the MiniLM 'semantic' family (offline)")
    group.add_argument("--judge-model", default="smollm2-135m",
                       help="judge family: model name sent to the OpenAI-compatible endpoint, or a model spec "
                            "served locally when --judge-url is not given")
    group.add_argument("--judge-url", default=None,
                       help="judge family: base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1)")
    group.add_argument("--judge-api-key-env", default="OPENAI_API_KEY",
                       help="judge family: environment variable holding the server's API key, if it needs one")
    group.add_argument("--judge-dimensions", nargs="+", default=["coherence", "consistency", "fluency", "relevance"],
                       choices=["coherence", "consistency", "fluency", "relevance"], metavar="DIMENSION",
                       help="judge family: the dimensions asked (one request each per summary)")
    group.add_argument("--judge-article-words", type=int, default=600,
                       help="judge family: the article is cut to this many words in the prompt")


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
    add_metric_options(parser)


def selected_metrics(args: argparse.Namespace) -> tuple[str, ...] | None:
    from summarizer.evaluation.registry import default_metric_names

    names = list(args.metrics) if args.metrics else None
    if args.semantic:
        names = (names or default_metric_names()) + ["semantic"]
    return tuple(names) if names is not None else None


def metric_options(args: argparse.Namespace) -> dict[str, dict]:
    return {"judge": {"model": args.judge_model, "url": args.judge_url, "api_key_env": args.judge_api_key_env,
                      "dimensions": list(args.judge_dimensions), "article_words": args.judge_article_words}}


def eval_config(args: argparse.Namespace):
    from summarizer.evaluation.harness import EvalConfig

    return EvalConfig(rouge_mode=args.rouge, tokenizer=args.tokenizer, use_stemmer=not args.no_stemmer,
                      references=args.reference_set, seed=args.seed, bootstrap_resamples=args.resamples,
                      metrics=selected_metrics(args), metric_options=metric_options(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="score predictions against reference bullets (or --parity: the ROUGE-1.5.5 self-check)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--predictions", help="JSONL from `summarizer run` (id + bullets/summary); required "
                                              "unless --parity")
    parser.add_argument("--references", dest="reference_path",
                        help="JSONL with id + reference_bullets/references, or seed files; required unless --parity")
    parser.add_argument("--text-field", default="article",
                        help="article text field in the references JSONL (eval's default is 'article', "
                             "the field SummEval-style datasets use; `run` reads 'text')")
    parser.add_argument("--out", help="directory for per_article.jsonl and summary.json")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when some references have no prediction or some predictions no reference")
    parser.add_argument("--parity", nargs="?", const="", default=None, metavar="PARITY_JSONL",
                        help="instead of scoring: check both ROUGE modes against official ROUGE-1.5.5 numbers "
                             "(default file: rouge155_parity_dev.jsonl in $SUMMARIZER_DATA_DIR or ../shared/data)")
    add_eval_options(parser)
    parser.set_defaults(handler=handle_eval)

    compare = subparsers.add_parser("compare", help="run several models on a dataset and compare them",
                                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    compare.add_argument("--models", nargs="+", required=True, help="model specs to run (see `summarizer models`)")
    compare.add_argument("--dataset", required=True, help="JSONL dataset with reference bullets")
    compare.add_argument("--text-field", default="article",
                         help="article text field in the dataset (compare's default is 'article', "
                              "the field SummEval-style datasets use; `run` reads 'text')")
    compare.add_argument("--bullets", type=int, default=3, help="bullets per article asked of each model")
    compare.add_argument("--baseline", default="lead-3", help="system the others are tested against")
    compare.add_argument("--no-published", action="store_true", help="skip the dataset's system_outputs")
    compare.add_argument("--out", default="eval/compare", help="directory for leaderboard.* and report.html")
    compare.add_argument("--cache", default=None, help="where model predictions are cached (default: OUT/predictions)")
    compare.add_argument("--meta-eval", default=None,
                         help="meta_eval.json whose human-agreement numbers the leaderboard quotes per column "
                              "(default: eval/meta/summeval/meta_eval.json of this checkout, when present)")
    add_eval_options(compare)
    compare.set_defaults(handler=handle_compare)


def handle_eval(args: argparse.Namespace) -> int:
    if args.parity is not None:
        return handle_parity(args.parity)
    missing = [flag for flag, value in (("--predictions", args.predictions), ("--references", args.reference_path))
               if not value]
    if missing:
        print(f"error: summarizer eval needs {' and '.join(missing)} (or --parity)", file=sys.stderr)
        return 2
    from summarizer.evaluation.harness import Evaluator, format_table, load_predictions, load_references, match_ids
    from summarizer.evaluation.harness import write_results as write_eval_results
    from summarizer.evaluation.report import rouge_description

    try:
        predictions = load_predictions(Path(args.predictions))
        references = load_references(Path(args.reference_path), text_field=args.text_field)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    ids = match_ids(predictions, references)
    if ids.matched == 0:
        print(f"error: no prediction id in {args.predictions} matches a reference id in {args.reference_path} "
              f"({ids.n_predictions} predictions, e.g. {_examples(list(predictions))}; {ids.n_references} "
              f"references, e.g. {_examples(list(references))}); check that both files come from the same dataset",
              file=sys.stderr)
        return 2
    from summarizer.evaluation.registry import MetricUnavailableError

    evaluator = Evaluator(eval_config(args))
    try:
        result = evaluator.evaluate(predictions, references)
    except MetricUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
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
    mismatched = report_id_mismatch(ids, args.predictions, args.reference_path)
    if mismatched and args.strict:
        print("error: --strict: predictions and references do not cover the same articles", file=sys.stderr)
        return 1
    return 0


def _examples(ids: list[str]) -> str:
    shown = ", ".join(repr(key) for key in ids[:SHOWN_IDS])
    return shown + (", ..." if len(ids) > SHOWN_IDS else "")


def report_id_mismatch(ids, predictions_path: str, references_path: str) -> bool:
    """Warn about references nobody predicted (scored as empty summaries) and predictions nobody scored."""
    if ids.references_without_prediction:
        count = len(ids.references_without_prediction)
        print(f"warning: {count} of {ids.n_references} references have no prediction in {predictions_path} "
              f"(scored as empty summaries): {_examples(ids.references_without_prediction)}", file=sys.stderr)
    if ids.predictions_without_reference:
        count = len(ids.predictions_without_reference)
        noun = "prediction has" if count == 1 else "predictions have"
        print(f"warning: {count} {noun} no reference in {references_path} (not scored): "
              f"{_examples(ids.predictions_without_reference)}", file=sys.stderr)
    return bool(ids.references_without_prediction or ids.predictions_without_reference)


def handle_compare(args: argparse.Namespace) -> int:
    from summarizer.evaluation.compare import compare_models
    from summarizer.evaluation.registry import MetricUnavailableError
    from summarizer.evaluation.report import markdown_leaderboard, write_leaderboard
    from summarizer.ingest import IngestOptions

    command = "summarizer " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "summarizer compare"
    try:
        comparison = compare_models(
            args.models, Path(args.dataset), Path(args.out), cache_dir=Path(args.cache) if args.cache else None,
            n_bullets=args.bullets,
            ingest_options=IngestOptions(text_field=args.text_field), eval_config=eval_config(args),
            baseline=args.baseline, include_published=not args.no_published)
    except MetricUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    meta_eval = Path(args.meta_eval) if args.meta_eval else None
    paths = write_leaderboard(comparison, Path(args.out), command, meta_eval)
    print(markdown_leaderboard(comparison, command, meta_eval))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def handle_parity(path: str) -> int:
    from summarizer.evaluation.parity import main as parity_main

    return parity_main([path] if path else [])
