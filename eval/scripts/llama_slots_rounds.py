"""How many llama-server parallel slots? The bench's GGUF pair (llama-server one article at a time against
``llama-server-parallel``) for several slot counts, each in its own ABBA rounds over the same articles.

    .venv/bin/python eval/scripts/llama_slots_rounds.py --slots 8 12 16 --out eval/llama-slots-count.md
"""

from __future__ import annotations

import argparse
import platform
from datetime import datetime, timezone
from pathlib import Path

from script_report import command, save

from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.gguf import LLAMA_VARIANTS, run_gguf
from summarizer.bench.suite import default_work_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, nargs="+", default=[8, 12, 16])
    parser.add_argument("--articles", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    records = load_dev_records(dev_set_path())
    weights = LLAMA_VARIANTS["llama-server"].requantize or "Q4_1 as shipped"
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# llama-server: how many parallel slots", "",
        command("llama_slots_rounds.py", "--slots " + ' '.join(map(str, args.slots)), args.out)
        + f", started {started} on {platform.machine()}, {args.articles} dev articles, exactly {args.tokens} new "
        f"tokens each, SmolLM2-135M {weights}, `cache_prefix: true`, {args.rounds} ABBA rounds per slot count "
        "(summarizer.bench.gguf.run_gguf, the bench's own code).", "",
        "| slots | one at a time wall s | slots wall s | speedup | per round | slots peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for slots in args.slots:
        result = run_gguf(records, default_work_dir(), n_articles=args.articles, new_tokens=args.tokens,
                          slots=slots, rounds=args.rounds, variants=("llama-server", "llama-server-parallel"))
        if "parallel_vs_sequential" not in result:
            raise SystemExit(f"llama-server is not usable here: {result.get('skipped')}")
        one, many = result["variants"]["llama-server"], result["variants"]["llama-server-parallel"]
        rounds = ", ".join(f"{ratio:.2f}x" for ratio in result["parallel_vs_sequential_rounds"])
        lines.append(f"| {slots} | {one['wall_seconds']:.1f} | {many['wall_seconds']:.1f} | "
                     f"{result['parallel_vs_sequential']:.2f}x | {rounds} | {many['peak_rss_mib']:.0f} |")
        print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
