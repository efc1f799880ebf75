"""`summarizer run INPUT...`: summarize files, directories, datasets into JSONL, Markdown or CSV.

The handler imports the pipeline, backends, ingest and Ray when the command runs, so that
`import summarizer.cli.main` stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from itertools import chain, islice
from typing import TYPE_CHECKING

from summarizer.outputs import FORMATS

if TYPE_CHECKING:
    from summarizer.articles import Article
    from summarizer.backends.base import Backend
    from summarizer.ingest import IngestOptions
    from summarizer.pipeline import RunSettings, RunStats, Summarizer

EXIT_OK, EXIT_SOME_FAILED, EXIT_UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="summarize articles into bullets")
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="text/seed files, directories, .jsonl, .csv, datasets (hf:NAME[:CONFIG], parquet)")
    parser.add_argument("--model", help="spec name (see `summarizer models`), hub id, model dir or .gguf path "
                                        "(default: the run config's model, points in configs/default.yaml)")
    parser.add_argument("--bullets", type=int,
                        help="bullets per article (default: the run config's bullets, 5 in configs/default.yaml)")
    parser.add_argument("--fallback", choices=("lead", "none"),
                        help="when a generative model says nothing usable: its lead sentences, flagged, or an "
                             "error record (default: the run config's fallback, lead in configs/default.yaml)")
    parser.add_argument("--no-grounding", dest="grounding", action="store_false", default=None,
                        help="keep generated bullets that name numbers or names the article lacks (default: they "
                             "are left out and the record says which; configs/default.yaml's grounding)")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument("--format", choices=FORMATS,
                        help="output format (default: from --out's suffix, else the run config's format, jsonl)")
    parser.add_argument("--config", help="run config name or path (default: configs/default.yaml)")
    parser.add_argument("--store", default=os.environ.get("SUMMARIZER_STORE"),
                        help="SQLite store: summarize only what is new, resume after a crash, share the work "
                             "with concurrent runs (default: $SUMMARIZER_STORE, else no store)")
    parser.add_argument("--feeds", help="YAML feeds list to poll in addition to INPUTs, e.g. configs/feeds.yaml "
                                        "(default: none)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar; only errors, for cron (default: off)")
    parser.add_argument("--allow-private-hosts", action="store_true",
                        help="also fetch from loopback and private addresses, for intranet feeds (default: off, "
                             "or $SUMMARIZER_ALLOW_PRIVATE_HOSTS=1); link-local stays refused, see docs/security.md")
    parser.add_argument("--language", metavar="CODE",
                        help="generative models write the bullets in this language (ISO 639-1, e.g. en) "
                        "(default: each article's own language)")
    engine = parser.add_argument_group("scale out (see README: When one machine is not enough)")
    engine.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where the model runs: this process or Ray actors (default: %(default)s)")
    engine.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray)")
    engine.add_argument("--num-actors", type=int, default=1,
                        help="Ray actors, each with its own model (default: %(default)s)")
    engine.add_argument("--ray-batch-size", type=int, default=8,
                        help="articles per Ray actor call (default: %(default)s)")
    add_ingest_arguments(parser)
    parser.set_defaults(handler=handle)


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input columns (JSONL, CSV, datasets)")
    group.add_argument("--text-field", default=None,
                       help="field or column holding the article text (default: the first of text, article, "
                            "content, body, document that the record has)")
    group.add_argument("--id-field", help="field holding the article id (default: id if present, else FILE:LINE)")
    group.add_argument("--title-field", help="field holding the title (default: title if present)")
    group.add_argument("--reference-field",
                       help="field holding reference bullets (default: reference_bullets if present)")
    group.add_argument("--url-field", help="field holding the article URL (default: url if present)")
    group.add_argument("--split", default="test", help="dataset split, hub datasets (default: %(default)s)")
    group.add_argument("--dataset-config",
                       help="dataset configuration name, hub datasets (default: the dataset's default)")
    group.add_argument("--max-chars", type=int, help="longest article accepted, in characters "
                                                     "(default: the run config's max_chars, 1000000)")
    group.add_argument("--limit", type=int, help="stop after this many articles (default: no limit)")


def ingest_options(args: argparse.Namespace, max_chars: int) -> IngestOptions:
    from summarizer.ingest import IngestOptions

    return IngestOptions(
        text_field=args.text_field, id_field=args.id_field, title_field=args.title_field,
        reference_field=args.reference_field, url_field=args.url_field, dataset_split=args.split,
        dataset_config=args.dataset_config, max_chars=args.max_chars or max_chars,
        allow_private_hosts=True if args.allow_private_hosts else None,
    )


def iter_inputs(inputs: list[str], options: IngestOptions) -> Iterator[Article]:
    """Articles from every input; an input that cannot be read becomes one error record."""
    from summarizer.articles import Article
    from summarizer.hub import ModelUnavailableError
    from summarizer.ingest import load_articles

    for name in inputs:
        try:
            yield from load_articles([name], options)
        except (OSError, ValueError, ModelUnavailableError) as error:
            yield Article(id=name, text="", source=name, error=f"cannot read input '{name}': {error}")


def print_report(stats: RunStats, model: str) -> None:
    stream = sys.stderr
    load = f"; model load {stats.load_seconds:.1f} s" if stats.load_seconds is not None else ""
    print(f"summarized {stats.succeeded}/{stats.articles} articles with {model} in {stats.seconds:.1f} s "
          f"({stats.articles_per_second:.2f} articles/s{load})" + mixed_languages(stats.languages), file=stream)
    if stats.warnings:
        print(f"{len(stats.warnings)} with a warning:", file=stream)
        for article_id, warning in stats.warnings:
            print(f"  {article_id}: {warning}", file=stream)
    if stats.errors:
        print(f"{stats.failed} failed:", file=stream)
        for article_id, error in stats.errors:
            print(f"  {article_id}: {error}", file=stream)


def make_summarizer(args: argparse.Namespace, backend: Backend) -> Summarizer:
    """This process's backend, or Ray actors that build their own from its spec."""
    if args.engine == "ray":
        from summarizer.engines.ray_engine import RaySummarizer

        return RaySummarizer(backend.spec, num_actors=args.num_actors, ray_address=args.ray_address,
                             batch_size=args.ray_batch_size)
    from summarizer.pipeline import LocalSummarizer

    return LocalSummarizer(backend)


def mixed_languages(languages: dict[str, int]) -> str:
    """"; languages: en 3, uk 2" when a batch mixes languages, else nothing."""
    if len(languages) < 2:
        return ""
    return "; languages: " + ", ".join(f"{code} {count}" for code, count in sorted(languages.items(),
                                                                                 key=lambda item: -item[1]))


def handle(args: argparse.Namespace) -> int:
    from summarizer.backends.registry import backend_for
    from summarizer.config import load_config
    from summarizer.hub import ModelUnavailableError
    from summarizer.ingest import format_skipped
    from summarizer.language import is_language_code, with_bullet_language
    from summarizer.outputs import format_for_path, open_writer
    from summarizer.pipeline import RunSettings, run

    try:
        config = load_config(args.config)
        settings = RunSettings.from_config(config, n_bullets=args.bullets, fallback=args.fallback,
                                           grounding=args.grounding)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    model = args.model or config.model
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
    summarizer = make_summarizer(args, backend)
    if args.store:
        return run_into_store(args, summarizer, settings, options)
    # --limit counts articles over the whole run, not per input.
    articles = with_bullet_language(islice(iter_inputs(args.inputs, options), args.limit), args.language)
    fmt = args.format or format_for_path(args.out, config.format)
    try:
        with open_writer(args.out, fmt) as writer:
            stats = run(articles, summarizer, writer.write, settings)
    except (ValueError, ImportError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    print_report(stats, backend.spec.name)
    if options.skipped_files:
        print(format_skipped(options.skipped_files), file=sys.stderr)
    return EXIT_SOME_FAILED if stats.failed else EXIT_OK


def run_into_store(args: argparse.Namespace, summarizer: Summarizer, settings: RunSettings,
                   options: IngestOptions) -> int:
    """Feeds and files into the SQLite store; only articles without a summary are summarized (by this
    process, or with --engine ray by Ray actors, each summary stored as it comes back)."""
    from summarizer.ingest import format_skipped
    from summarizer.ingest.feeds import handles_source, iter_source_articles, load_feed_list
    from summarizer.ingest.http import Fetcher
    from summarizer.language import with_bullet_language
    from summarizer.store import Store, StoreError
    from summarizer.store.resumable import format_report, run_with_store

    sources = list(args.inputs) + ([feed.url for feed in load_feed_list(args.feeds)] if args.feeds else [])
    feed_sources = [name for name in sources if handles_source(name)]
    other_sources = [name for name in sources if not handles_source(name)]
    try:
        store = Store(args.store)
    except StoreError as error:  # damaged, or newer than this summarizer: nothing is read or written
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    with store, Fetcher(allow_private_hosts=options.allow_private_hosts) as fetcher:
        articles = chain(iter_source_articles(feed_sources, fetcher, store), iter_inputs(other_sources, options))
        try:
            articles = with_bullet_language(islice(articles, args.limit), args.language)
            result = run_with_store(articles, summarizer, store, settings, quiet=args.quiet)
        except (ImportError, RuntimeError, ValueError) as error:  # Ray missing or failed; the manifest says so too
            print(f"error: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        print(format_report(result, summarizer.spec.name), file=sys.stderr)
        if options.skipped_files:
            print(format_skipped(options.skipped_files), file=sys.stderr)
    return EXIT_SOME_FAILED if result.errors else EXIT_OK
