"""How many llama.cpp parallel slots? The bench's GGUF pair (one article at a time against several slots:
``llama-server`` / ``llama-server-parallel``, or with ``--runtime xllamacpp`` ``llama.cpp`` /
``llama.cpp-parallel``) for several slot counts, each in its own ABBA rounds over the same articles.

    .venv/bin/python eval/scripts/llama_slots_rounds.py --slots 8 12 16 --out eval/llama-slots-count.md
    .venv/bin/python eval/scripts/llama_slots_rounds.py --runtime xllamacpp --slots 8 12 16 \
        --out eval/xllamacpp-slots-count-amd-epyc.md
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from script_report import COMPARISON_DEFAULTS, command, comparison_flags, machine_line, save

from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.gguf import LLAMA_VARIANTS, SLOTS_PAIRS, run_gguf
from summarizer.bench.suite import default_work_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", choices=("llama-server", "xllamacpp"), default="llama-server")
    parser.add_argument("--slots", type=int, nargs="+", default=[8, 12, 16])
    for name in ("articles", "tokens", "rounds"):
        parser.add_argument(f"--{name}", type=int, default=COMPARISON_DEFAULTS[name])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    records = load_dev_records(dev_set_path())
    # The bench's slots pair whose runtime was asked for.
    key, pair = next((key, pair) for key, pair in SLOTS_PAIRS.items()
                     if LLAMA_VARIANTS[pair.sequential].runtime == args.runtime)
    weights = LLAMA_VARIANTS[pair.sequential].requantize or "Q4_1 as shipped"
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    flags = ([f"--runtime {args.runtime}"] if args.runtime != "llama-server" else []) + [
        "--slots " + " ".join(map(str, args.slots)), comparison_flags(args, ("articles", "tokens", "rounds"))]
    lines = [
        f"# {pair.label}: how many parallel slots", "",
        command("llama_slots_rounds.py", " ".join(flag for flag in flags if flag), args.out)
        + f", started {started} on {machine_line()}, {args.articles} dev articles, exactly {args.tokens} new "
        f"tokens each, SmolLM2-135M {weights}, `cache_prefix: true`, {args.rounds} ABBA rounds per slot count "
        "(summarizer.bench.gguf.run_gguf, the bench's own code).", "",
        "| slots | one at a time wall s | slots wall s | speedup | per round | slots peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for slots in args.slots:
        result = run_gguf(records, default_work_dir(), n_articles=args.articles, new_tokens=args.tokens,
                          slots=slots, rounds=args.rounds, variants=(pair.sequential, pair.parallel))
        if f"{key}_vs_sequential" not in result:
            raise SystemExit(f"{pair.label} is not usable here: {result.get('skipped')}")
        one, many = result["variants"][pair.sequential], result["variants"][pair.parallel]
        rounds = ", ".join(f"{ratio:.2f}x" for ratio in result[f"{key}_vs_sequential_rounds"])
        lines.append(f"| {slots} | {one['wall_seconds']:.1f} | {many['wall_seconds']:.1f} | "
                     f"{result[f'{key}_vs_sequential']:.2f}x | {rounds} | {many['peak_rss_mib']:.0f} |")
        print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
