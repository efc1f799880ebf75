"""Prompt-lookup decoding (the llama-cpp spec option ``prompt_lookup``: llama.cpp's ``ngram-simple``
speculative decoding) on and off, for llama-server with one slot and with several, xllamacpp, and, as the
baseline's counterpart, transformers' own ``prompt_lookup_num_tokens``, in ABBA rounds over the same
articles (the bench's workers, the bench's re-encoded weights for llama.cpp, fp32 for transformers).

    .venv/bin/python eval/scripts/llama_prompt_lookup.py --articles 8 --out eval/llama-prompt-lookup.md
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone

from script_report import command, comparison_flags, gguf_comparison_arguments, save

from summarizer.backends.llama_cpp import PromptLookup
from summarizer.bench.gguf import LLAMA_REQUANTIZE, dequantized_model_dir, run_llama_cpp, run_transformers
from summarizer.bench.rounds import combine, interleave, speedup
from summarizer.bench.suite import default_work_dir

LOOKUP = PromptLookup()
ENGINES = ("transformers", "xllamacpp", "llama-server", "llama-server slots")


def main() -> None:
    args, texts = gguf_comparison_arguments(__doc__.splitlines()[0])
    model_dir = dequantized_model_dir(default_work_dir())
    variants = [f"{engine}, {lookup}" for engine in ENGINES for lookup in ("off", "on")]

    def run(variant: str) -> dict:
        engine, lookup = variant.rsplit(", ", 1)
        on = lookup == "on"
        if engine == "transformers":
            result = run_transformers(model_dir, texts, args.tokens, 1, LOOKUP.max_draft if on else None)
        else:
            slots = args.slots if engine.endswith("slots") else 1
            result = run_llama_cpp(texts, args.tokens, engine.removesuffix(" slots"), slots, LLAMA_REQUANTIZE,
                                   prompt_lookup=LOOKUP.model_dump() if on else None)
        print(f"{variant}: {result['wall_seconds']:.1f} s", flush=True)
        return result

    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    per_round = interleave(variants, args.rounds, run)
    totals = {variant: combine(runs) for variant, runs in per_round.items()}
    lines = [
        "# Prompt-lookup decoding", "",
        command("llama_prompt_lookup.py", comparison_flags(args), args.out)
        + f", started {started} on {platform.machine()}, {len(texts)} dev articles, exactly {args.tokens} new "
        f"tokens each (llama.cpp `ignore_eos`), {args.rounds} ABBA rounds. llama.cpp: SmolLM2-135M-Instruct "
        f"{LLAMA_REQUANTIZE}, `cache_prefix: true`, prompt lookup `ngram: {LOOKUP.ngram}, max_draft: "
        f"{LOOKUP.max_draft}`; transformers: the dequantized fp32 weights, batch size 1, "
        f"`prompt_lookup_num_tokens={LOOKUP.max_draft}`.", "",
        "| engine | slots | prompt lookup | wall s | CPU s | articles/s | decode ms per token (server) | "
        "drafted tokens accepted | same text as off (round 1) | vs off |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, total in totals.items():
        engine, lookup = variant.rsplit(", ", 1)
        off = f"{engine}, off"
        decode = (f"{1000 * total['decode_seconds'] / total['generated_tokens']:.1f}"
                  if total.get("decode_seconds") else "—")
        drafted = total.get("draft_tokens", 0)
        accepted = f"{total['draft_tokens_accepted']} of {drafted}" if drafted else "—"
        same = sum(a == b for a, b in zip(per_round[variant][0]["texts"], per_round[off][0]["texts"]))
        lines.append(
            f"| {engine.removesuffix(' slots')} | {args.slots if engine.endswith('slots') else 1} | {lookup} | "
            f"{total['wall_seconds']:.1f} | {total['cpu_seconds']:.1f} | {total['items_per_second']:.3f} | {decode} | "
            f"{accepted} | {same}/{len(texts)} | {speedup(total, totals[off]):.2f}x |"
        )
    print("\n".join(lines))
    save(lines, args.out)


if __name__ == "__main__":
    main()
