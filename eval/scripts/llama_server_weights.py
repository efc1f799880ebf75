"""Which weights for llama.cpp: SmolLM2-135M's shipped Q4_1 against the same weights re-encoded
(summarizer.gguf_convert.TARGETS), one slot and several parallel slots, in ABBA rounds over the
same articles.

Each run is the bench's own child (summarizer.bench.gguf.llama_cpp_worker, ``--runtime`` llama-server or
xllamacpp), so the numbers compare with eval/bench.md's GGUF section: exactly ``--tokens`` new tokens per
article, ``cache_prefix: true``, the server's own prompt and decode timings.

    .venv/bin/python eval/scripts/llama_server_weights.py --out eval/llama-server-weights.md
    .venv/bin/python eval/scripts/llama_server_weights.py --runtime xllamacpp --weights Q8_0 F16 F32 \
        --out eval/xllamacpp-weights.md
"""

from __future__ import annotations

import argparse
import platform
from datetime import datetime, timezone

from script_report import command, comparison_flags, gguf_comparison_arguments, save

from summarizer.bench.gguf import run_llama_cpp
from summarizer.bench.machine import describe_machine
from summarizer.bench.rounds import combine, interleave, speedup
from summarizer.gguf_convert import TARGETS

SHIPPED = "Q4_1"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runtime", choices=("llama-server", "xllamacpp"), default="llama-server")
    parser.add_argument("--weights", nargs="+", choices=(SHIPPED, *TARGETS), default=[SHIPPED, "Q8_0"],
                        help=f"{SHIPPED}: the file as shipped; the others re-encode it")


def cpu_name() -> str:
    machine = describe_machine()
    return f"{machine.cpu_model}, {machine.physical_cores} cores"


def main() -> None:
    args, texts = gguf_comparison_arguments(__doc__.splitlines()[0], options)
    variants = [f"{weights} {slots}" for weights in args.weights for slots in (1, args.slots)]

    def run(variant: str) -> dict:
        weights, slots = variant.split()
        result = run_llama_cpp(texts, args.tokens, args.runtime, int(slots), None if weights == SHIPPED else weights)
        print(f"{variant}: {result['wall_seconds']:.1f} s", flush=True)
        return result

    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    totals = {variant: combine(runs) for variant, runs in interleave(variants, args.rounds, run).items()}
    best_one = max((totals[f"{weights} 1"] for weights in args.weights), key=lambda t: t["items_per_second"])
    arguments = f"--runtime {args.runtime} --weights {' '.join(args.weights)} {comparison_flags(args)}".strip()
    lines = [
        f"# {args.runtime}: shipped {SHIPPED} or re-encoded weights", "",
        command("llama_server_weights.py", arguments, args.out)
        + f", started {started} on {platform.machine()} ({cpu_name()}), {len(texts)} dev articles, exactly "
        f"{args.tokens} new tokens each, SmolLM2-135M-Instruct, `cache_prefix: true`, {args.rounds} ABBA rounds "
        "(the bench's llama_cpp_worker). Prompt and decode seconds are the server's own timings, summed over the slots "
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
