"""How llama-server's OpenMP workers wait: libgomp's defaults against the bounded spinning that our
llama-server runtime sets (summarizer.backends.llama_cpp.SERVER_SPIN_ENV), one slot and 8 slots, in ABBA
rounds over the same articles, on the bench's weights (summarizer.bench.gguf.LLAMA_REQUANTIZE).

libgomp's defaults are had by setting ``GOMP_SPINCOUNT=300000`` in the environment: that is libgomp's
default spin count, it leaves the count used when more threads than CPUs are managed at its default (100),
and any such variable in the environment makes the backend pass it on untouched.

    .venv/bin/python eval/scripts/llama_server_spin.py --out eval/llama-server-spin.md
"""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone

from script_report import command, comparison_flags, gguf_comparison_arguments, save

from summarizer.backends.llama_cpp import SERVER_SPIN_ENV
from summarizer.bench.gguf import LLAMA_REQUANTIZE, run_llama_cpp
from summarizer.bench.rounds import combine, interleave, speedup

# variant -> the environment the server child inherits for it
WAITING = {"libgomp defaults": {"GOMP_SPINCOUNT": "300000"}, "bounded spin": {}}


def main() -> None:
    args, texts = gguf_comparison_arguments(__doc__.splitlines()[0])
    variants = [f"{waiting}, {slots}" for slots in (1, args.slots) for waiting in WAITING]

    # Our own environment must not set libgomp's waiting: the bounded-spin runs get the backend's default.
    for name in SERVER_SPIN_ENV:
        os.environ.pop(name, None)

    def run(variant: str) -> dict:
        waiting, slots = variant.rsplit(", ", 1)
        result = run_llama_cpp(texts, args.tokens, "llama-server", int(slots), LLAMA_REQUANTIZE, env=WAITING[waiting])
        print(f"{variant}: {result['wall_seconds']:.1f} s", flush=True)
        return result

    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    totals = {variant: combine(runs) for variant, runs in interleave(variants, args.rounds, run).items()}
    spin = ", ".join(f"{name}={value}" for name, value in SERVER_SPIN_ENV.items())
    lines = [
        "# llama-server: how its OpenMP workers wait", "",
        command("llama_server_spin.py", comparison_flags(args), args.out)
        + f", started {started} on {platform.machine()}, {len(texts)} dev articles, exactly {args.tokens} new "
        f"tokens each, SmolLM2-135M-Instruct {LLAMA_REQUANTIZE}, `cache_prefix: true`, {args.rounds} ABBA rounds "
        f"(the bench's llama_cpp_worker). Bounded spin is `{spin}` in the server's environment.", "",
        "| waiting | slots | wall s | CPU s | articles/s | decode ms per token, each slot (server) | "
        "vs libgomp defaults |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, total in totals.items():
        waiting, slots = variant.rsplit(", ", 1)
        base = totals[f"libgomp defaults, {slots}"]
        lines.append(
            f"| {waiting} | {slots} | {total['wall_seconds']:.1f} | {total['cpu_seconds']:.1f} | "
            f"{total['items_per_second']:.3f} | {1000 * total['decode_seconds'] / total['generated_tokens']:.1f} | "
            f"{speedup(total, base):.2f}x |"
        )
    one, many = (totals[f"bounded spin, {slots}"] for slots in (1, args.slots))
    lines += ["", f"- Bounded spin, {args.slots} slots against one slot: {speedup(many, one):.2f}x."]
    print("\n".join(lines))
    save(lines, args.out)


if __name__ == "__main__":
    main()
