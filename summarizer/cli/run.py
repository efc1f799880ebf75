"""`summarizer run INPUT...`: summarize files, directories, datasets into JSONL, Markdown or CSV."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice

from summarizer.articles import Article, Summary
from summarizer.backends.base import Backend
from summarizer.backends.registry import backend_for
from summarizer.config import load_config
from summarizer.hub import ModelUnavailableError
from summarizer.ingest import IngestOptions, load_articles
from summarizer.language import is_language_code, with_bullet_language
from summarizer.outputs import FORMATS, format_for_path, open_writer
from summarizer.pipeline import RunStats, run
from summarizer.specs import ModelSpec

EXIT_OK, EXIT_SOME_FAILED, EXIT_UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="summarize articles into bullets")
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="text/seed files, directories, .jsonl, .csv, datasets (hf:NAME[:CONFIG], parquet)")
    parser.add_argument("--model", help="spec name (see `summarizer models`), hub id, model dir or .gguf path")
    parser.add_argument("--bullets", type=int, help="bullets per article (default from the config)")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from --out's suffix)")
    parser.add_argument("--config", help="run config name or path (default: configs/default.yaml)")
    parser.add_argument("--store", default=os.environ.get("SUMMARIZER_STORE"),
                        help="SQLite store: summarize only what is new, resume after a crash ($SUMMARIZER_STORE)")
    parser.add_argument("--feeds", help="YAML feeds list to poll in addition to INPUTs (e.g. configs/feeds.yaml)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar; only errors (for cron)")
    parser.add_argument("--language", metavar="CODE",
                        help="generative models write the bullets in this language (ISO 639-1, e.g. en) "
                        "(default: each article's own language)")
    engine = parser.add_argument_group("scale out (see README: When one machine is not enough)")
    engine.add_argument("--engine", choices=("local", "ray"), default="local")
    engine.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray)")
    engine.add_argument("--num-actors", type=int, default=1, help="Ray actors, each with its own model")
    engine.add_argument("--ray-batch-size", type=int, default=8, help="articles per Ray actor call")
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


def print_report(stats: RunStats, model: str) -> None:
    stream = sys.stderr
    rate = stats.articles / stats.seconds if stats.seconds else 0.0
    print(f"summarized {stats.succeeded}/{stats.articles} articles with {model} in {stats.seconds:.1f} s "
          f"({rate:.2f} articles/s; model load {stats.load_seconds:.1f} s)" + mixed_languages(stats.languages),
          file=stream)
    if stats.warnings:
        print(f"{len(stats.warnings)} with a warning:", file=stream)
        for article_id, warning in stats.warnings:
            print(f"  {article_id}: {warning}", file=stream)
    if stats.errors:
        print(f"{stats.failed} failed:", file=stream)
        for article_id, error in stats.errors:
            print(f"  {article_id}: {error}", file=stream)


def mixed_languages(languages: dict[str, int]) -> str:
    """"; languages: en 3, uk 2" when a batch mixes languages, else nothing."""
    if len(languages) < 2:
        return ""
    return "; languages: " + ", ".join(f"{code} {count}" for code, count in sorted(languages.items(),
                                                                                 key=lambda item: -item[1]))


def handle(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    model = args.model or config.model
    n_bullets = args.bullets or config.bullets
    if n_bullets < 1:
        print("error: --bullets must be at least 1", file=sys.stderr)
        return EXIT_UNUSABLE
    if not args.inputs and not args.feeds:
        print("error: give at least one INPUT or --feeds FILE", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.language and not is_language_code(args.language):
        print(f"error: --language {args.language!r} is not an ISO 639-1 code such as en, uk, de", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        backend = backend_for(model)
        if not args.store and args.engine == "local":
            # Fail before reading inputs. Store mode loads only if work is pending; Ray actors load their own.
            backend.ensure_loaded()
    except (ModelUnavailableError, ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: cannot use model '{model}': {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.language and not backend.abstractive:
        print(f"note: --language {args.language} applies to generative models; {model} quotes the article's "
              "own sentences", file=sys.stderr)
    options = ingest_options(args, config.max_chars)
    if args.store and args.out:
        print("error: with --store, write outputs with `summarizer digest --store ... --out FILE`", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.store:
        try:
            return run_into_store(args, backend, n_bullets, options, config.bullet_max_chars)
        except (ImportError, RuntimeError) as error:  # Ray missing or its run failed; the manifest says so too
            print(f"error: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
    # --limit counts articles over the whole run, not per input.
    articles = with_bullet_language(islice(iter_inputs(args.inputs, options), args.limit), args.language)
    fmt = args.format or format_for_path(args.out, config.format)
    try:
        with open_writer(args.out, fmt) as writer:
            if args.engine == "ray":
                stats = run_on_ray(args, articles, backend.spec, n_bullets, config.bullet_max_chars, writer.write)
            else:
                stats = run(articles, backend, n_bullets, writer.write, bullet_max_chars=config.bullet_max_chars)
    except (ValueError, ImportError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    print_report(stats, backend.spec.name)
    return EXIT_SOME_FAILED if stats.failed else EXIT_OK


def run_on_ray(args: argparse.Namespace, articles: Iterable[Article], spec: ModelSpec, n_bullets: int,
               bullet_max_chars: int, sink: Callable[[Summary], None]) -> RunStats:
    """Ray Data batch inference: same pipeline code in each actor, same records, input order kept."""
    from summarizer.engines.ray_engine import run_ray

    stats = RunStats()
    started = time.perf_counter()
    for summary in run_ray(articles, spec, n_bullets, bullet_max_chars, num_actors=args.num_actors,
                           ray_address=args.ray_address, batch_size=args.ray_batch_size):
        sink(summary)
        stats.record(summary)
    stats.seconds = time.perf_counter() - started
    return stats


def run_into_store(args: argparse.Namespace, backend: Backend, n_bullets: int, options: IngestOptions,
                   bullet_max_chars: int) -> int:
    """Feeds and files into the SQLite store; only articles without a summary are summarized (by this
    process, or with --engine ray by Ray actors, each summary stored as it comes back)."""
    from summarizer.ingest.feeds import handles_source, iter_source_articles, load_feed_list
    from summarizer.ingest.http import Fetcher
    from summarizer.resumable import format_report, run_with_store
    from summarizer.store import Store

    sources = list(args.inputs) + ([feed.url for feed in load_feed_list(args.feeds)] if args.feeds else [])
    feed_sources = [name for name in sources if handles_source(name)]
    other_sources = [name for name in sources if not handles_source(name)]
    with Store(args.store) as store, Fetcher() as fetcher:
        articles = chain(iter_source_articles(feed_sources, fetcher, store), iter_inputs(other_sources, options))
        summarize = None  # this process's backend
        if args.engine == "ray":
            from summarizer.engines.ray_engine import ray_summarizer

            summarize = ray_summarizer(args.num_actors, args.ray_address, args.ray_batch_size)
        articles = with_bullet_language(islice(articles, args.limit), args.language)
        result = run_with_store(articles, backend, n_bullets, store,
                                bullet_max_chars=bullet_max_chars, quiet=args.quiet, summarize=summarize)
        print(format_report(result, backend.spec.name), file=sys.stderr)
    return EXIT_SOME_FAILED if result.errors else EXIT_OK
