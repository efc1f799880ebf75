"""Which weights for llama-server: SmolLM2-135M's shipped Q4_1 against the same weights re-encoded as Q8_0
(summarizer.gguf_convert), one slot and 8 parallel slots, in ABBA rounds over the same articles.

Each run is the bench's own child (summarizer.bench.gguf.llama_cpp_worker with ``runtime: llama-server``),
so the numbers compare with eval/bench.md's GGUF section: exactly ``--tokens`` new tokens per article,
``cache_prefix: true``, the server's own prompt and decode timings.

    .venv/bin/python eval/scripts/llama_server_weights.py --out eval/llama-server-weights.md
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone

from script_report import command, gguf_comparison_arguments, save

from summarizer.bench.gguf import run_llama_cpp
from summarizer.bench.rounds import combine, interleave, speedup

# weights label -> the worker's ``requantize`` (None: the file as shipped)
WEIGHTS = {"Q4_1": None, "Q8_0": "Q8_0"}


def main() -> None:
    args, texts = gguf_comparison_arguments(__doc__.splitlines()[0])
    variants = [f"{weights} {slots}" for weights in WEIGHTS for slots in (1, args.slots)]

    def run(variant: str) -> dict:
        weights, slots = variant.split()
        result = run_llama_cpp(texts, args.tokens, "llama-server", int(slots), WEIGHTS[weights])
        print(f"{variant}: {result['wall_seconds']:.1f} s", flush=True)
        return result

    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    totals = {variant: combine(runs) for variant, runs in interleave(variants, args.rounds, run).items()}
    best_one = max((totals[f"{weights} 1"] for weights in WEIGHTS), key=lambda t: t["items_per_second"])
    lines = [
        "# llama-server: shipped Q4_1 or re-encoded Q8_0 weights", "",
        command("llama_server_weights.py", f"--slots {args.slots}", args.out)
        + f", started {started} on {platform.machine()}, {len(texts)} dev articles, exactly {args.tokens} new "
        f"tokens each, SmolLM2-135M-Instruct, `cache_prefix: true`, {args.rounds} ABBA rounds (the bench's "
        "llama_cpp_worker). Prompt and decode seconds are the server's own timings, summed over the slots "
        "(with several slots they overlap, so they exceed the wall time).", "",
        "| weights | slots | wall s | articles/s | prompt tok/s (server) | decode ms per token, each slot (server) | "
        "vs 1 slot, same weights | vs the fastest 1 slot | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, total in totals.items():
        weights, slots = variant.split()
        same = speedup(total, totals[f"{weights} 1"])
        lines.append(
            f"| {weights} | {slots} | {total['wall_seconds']:.1f} | {total['items_per_second']:.3f} | "
            f"{total['prompt_tokens'] / total['prompt_seconds']:.0f} | "
            f"{1000 * total['decode_seconds'] / total['generated_tokens']:.1f} | {same:.2f}x | "
            f"{speedup(total, best_one):.2f}x | {total['peak_rss_mib']:.0f} |"
        )
    print("\n".join(lines))
    save(lines, args.out)


if __name__ == "__main__":
    main()
