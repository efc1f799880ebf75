"""Batched decoding by group size: `summarizer bench`'s `llama.cpp-batched` variant (xllamacpp, prompts
computed first, then the group decoded in the same steps, the phases timed apart as llama-batched-bench
times them) with several group sizes, each against groups of one article through the same worker
(`llama.cpp-batched-1`, as llama-batched-bench sets -npl 1 beside N) in the same ABBA rounds.

The bench decodes all of its articles in one group by default, the issue's "batched decoding of 16
articles"; this shows what the group size changes: each step shares the weights' matrix products among
the articles it holds, while each article's attention over its own prompt costs the same in any group.

    .venv/bin/python eval/scripts/gguf_batch_group.py --groups 16 8 --out eval/gguf-batch-group-amd-epyc-zen4.md
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone
from pathlib import Path

from script_report import command, comparison_flags, machine_line, save

from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.gguf import run_gguf
from summarizer.bench.suite import default_work_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[16, 8])
    parser.add_argument("--articles", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = load_dev_records(dev_set_path(), args.articles)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    arguments = " ".join(part for part in (f"--groups {' '.join(map(str, args.groups))}",
                                           comparison_flags(args, ("articles", "tokens", "rounds"))) if part)
    lines = [
        "# GGUF: batched decoding by group size", "",
        f"{command('gguf_batch_group.py', arguments, args.out)}, started {started} on {machine_line()}. "
        f"SmolLM2-135M (the bench's Q4_0-ffn weights, xllamacpp), the first {len(records)} dev-set articles, "
        f"exactly {args.tokens} new tokens each, {args.rounds} ABBA rounds per group size, each against groups of "
        "one in the same rounds (`summarizer bench`'s GGUF section with `--batch-group N`, variants "
        "`llama.cpp-batched-1` and `llama.cpp-batched` only), both timed phase by phase by the wall clock.", "",
        "| articles per step | decode ms per token | groups of one's | decode vs one | per round | prompts vs one "
        "| whole articles vs one |",
        "|---|---|---|---|---|---|---|",
    ]
    for group in args.groups:
        result = run_gguf(records, default_work_dir(), n_articles=args.articles, new_tokens=args.tokens,
                          rounds=args.rounds, variants=("llama.cpp-batched-1", "llama.cpp-batched"), batch_group=group)
        phases = result["llama_batched_phases"]
        lines.append(f"| {result['batch_group']} | {phases['decode_ms_per_token']:.1f} | "
                     f"{phases['sequential_decode_ms_per_token']:.1f} | {phases['decode_vs_sequential']:.2f}x | "
                     f"{', '.join(f'{r:.2f}x' for r in phases['decode_rounds'])} | "
                     f"{phases['prompt_vs_sequential']:.2f}x | {phases['whole_vs_sequential']:.2f}x |")
        print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
