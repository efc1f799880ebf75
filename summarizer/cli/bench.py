"""`summarizer bench`: throughput, memory and cold-start benchmarks against the baselines, into eval/bench.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from summarizer.bench.report import acceptance
from summarizer.bench.suite import SECTIONS, BenchSettings, default_work_dir
from summarizer.paths import PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "eval" / "bench.md"
DEFAULTS = BenchSettings()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmark speed and memory against the baselines")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny inputs and models: checks that every section runs, in about a minute")
    parser.add_argument("--out", type=Path, help=f"report file (default: {DEFAULT_OUT.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--work-dir", type=Path, help=f"built models are kept here (default: {default_work_dir()})")
    parser.add_argument("--device", help="device for the seq2seq and GGUF sections (default: auto: a GPU if "
                        "there is one; GGUF only where a llama.cpp build here can offload to it)")
    parser.add_argument("--articles", type=int, help=f"seq2seq articles (default {DEFAULTS.seq2seq_articles})")
    parser.add_argument("--new-tokens", type=int,
                        help=f"seq2seq tokens per article (default {DEFAULTS.seq2seq_tokens})")
    parser.add_argument("--batch-size", type=int, help=f"hf-seq2seq batch size (default {DEFAULTS.seq2seq_batch})")
    parser.add_argument("--gguf-articles", type=int, help=f"GGUF articles (default {DEFAULTS.gguf_articles})")
    parser.add_argument("--gguf-tokens", type=int, help=f"GGUF tokens per article (default {DEFAULTS.gguf_tokens})")
    parser.add_argument("--slots", type=int, help=f"llama.cpp parallel slots (default {DEFAULTS.gguf_slots})")
    parser.add_argument("--batch-group", type=int, help="articles the batched llama.cpp variants decode in the "
                        "same steps (default: all of the GGUF articles)")
    parser.add_argument("--rounds", type=int, help=f"ABBA rounds per section (default {DEFAULTS.rounds})")
    parser.add_argument("--rouge-pairs", type=int, help=f"ROUGE pairs (default {DEFAULTS.rouge_pairs})")
    parser.add_argument("--repeats", type=int, help=f"ROUGE and cold-start repeats (default {DEFAULTS.repeats})")
    parser.set_defaults(handler=handle)


OVERRIDES = {
    "work_dir": "work_dir", "device": "device", "articles": "seq2seq_articles", "new_tokens": "seq2seq_tokens",
    "batch_size": "seq2seq_batch", "gguf_articles": "gguf_articles", "gguf_tokens": "gguf_tokens",
    "slots": "gguf_slots", "batch_group": "gguf_batch_group", "rounds": "rounds", "rouge_pairs": "rouge_pairs",
    "repeats": "repeats",
}


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
    sections = tuple(name.strip() for name in args.sections.split(",") if name.strip())
    unknown = [name for name in sections if name not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    overrides = {field: getattr(args, option) for option, field in OVERRIDES.items()
                 if getattr(args, option) is not None}
    settings = BenchSettings.quick(**overrides) if args.quick else BenchSettings(**overrides)
    settings.sections = sections
    return settings


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run: every option that was given, in canonical form."""
    words = ["summarizer", "bench"] + (["--quick"] if args.quick else [])
    if args.sections != ",".join(SECTIONS):
        words += ["--sections", args.sections]
    for option in OVERRIDES:
        if getattr(args, option) is not None:
            words += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    if args.out:
        words += ["--out", str(args.out)]
    return shlex.join(words)


def handle(args: argparse.Namespace) -> int:
    from summarizer.bench.suite import run_bench

    try:
        settings = settings_from_args(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or DEFAULT_OUT
    results = run_bench(settings, out, command_line(args))
    for row in acceptance(results):
        print(f"{'met ' if row['met'] else 'MISS'}  {row['check']}: {row['measured']} (target {row['target']})")
    for section, error in results["errors"].items():
        print(f"FAIL  {section}: {error}", file=sys.stderr)
    print(f"report: {out}")
    return 1 if results["errors"] else 0
