"""`summarizer run INPUT...`: summarize files, directories, datasets into JSONL, Markdown or CSV."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

from summarizer.articles import Article
from summarizer.backends.registry import backend_for
from summarizer.config import load_config
from summarizer.hub import ModelUnavailableError
from summarizer.ingest import IngestOptions, load_articles
from summarizer.outputs import FORMATS, SummaryWriter, format_for_path
from summarizer.pipeline import RunStats, run

EXIT_OK, EXIT_SOME_FAILED, EXIT_UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="summarize articles into bullets")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="text/seed files, directories, .jsonl, .csv, datasets (hf:NAME[:CONFIG], parquet)")
    parser.add_argument("--model", help="spec name (see `summarizer models`), hub id, model dir or .gguf path")
    parser.add_argument("--bullets", type=int, help="bullets per article (default from the config)")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from --out's suffix)")
    parser.add_argument("--config", help="run config name or path (default: configs/default.yaml)")
    add_ingest_arguments(parser)
    parser.set_defaults(handler=handle)


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input columns (JSONL, CSV, datasets)")
    group.add_argument("--text-field", default="text")
    group.add_argument("--id-field")
    group.add_argument("--title-field")
    group.add_argument("--reference-field")
    group.add_argument("--url-field")
    group.add_argument("--split", default="test", help="dataset split (hub datasets)")
    group.add_argument("--dataset-config", help="dataset configuration name (hub datasets)")
    group.add_argument("--max-chars", type=int, help="longest article accepted, in characters")
    group.add_argument("--limit", type=int, help="stop after this many articles")


def ingest_options(args: argparse.Namespace, max_chars: int) -> IngestOptions:
    return IngestOptions(
        text_field=args.text_field, id_field=args.id_field, title_field=args.title_field,
        reference_field=args.reference_field, url_field=args.url_field, dataset_split=args.split,
        dataset_config=args.dataset_config, max_chars=args.max_chars or max_chars,
    )


def iter_inputs(inputs: list[str], options: IngestOptions) -> Iterator[Article]:
    """Articles from every input; an input that cannot be read becomes one error record."""
    for name in inputs:
        try:
            yield from load_articles([name], options)
        except (OSError, ValueError, ModelUnavailableError) as error:
            yield Article(id=name, text="", source=name, error=f"cannot read input '{name}': {error}")


def print_report(stats: RunStats, model: str, stream=sys.stderr) -> None:
    rate = stats.articles / stats.seconds if stats.seconds else 0.0
    print(f"summarized {stats.succeeded}/{stats.articles} articles with {model} in {stats.seconds:.1f} s "
          f"({rate:.2f} articles/s; model load {stats.load_seconds:.1f} s)", file=stream)
    if stats.errors:
        print(f"{stats.failed} failed:", file=stream)
        for article_id, error in stats.errors:
            print(f"  {article_id}: {error}", file=stream)


def handle(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    model = args.model or config.model
    n_bullets = args.bullets or config.bullets
    if n_bullets < 1:
        print("error: --bullets must be at least 1", file=sys.stderr)
        return EXIT_UNUSABLE
    fmt = args.format or format_for_path(args.out, config.format)
    try:
        backend = backend_for(model)
        backend.ensure_loaded()
    except (ModelUnavailableError, ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: cannot use model '{model}': {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    # --limit counts articles over the whole run, not per input.
    articles = islice(iter_inputs(args.inputs, ingest_options(args, config.max_chars)), args.limit)
    with ExitStack() as stack:
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            stream = stack.enter_context(open(args.out, "w", encoding="utf-8"))
        else:
            stream = sys.stdout
        writer = SummaryWriter(stream, fmt)
        stats = run(articles, backend, n_bullets, writer.write, bullet_max_chars=config.bullet_max_chars)
    print_report(stats, backend.spec.name)
    return EXIT_SOME_FAILED if stats.failed else EXIT_OK
