"""Does any llama-server setting speed up SmolLM2 one article at a time on this CPU?

Each setting starts a fresh llama-server (our llama-cpp backend, ``runtime: llama-server``, the
``smollm2-135m`` spec with ``cache_prefix: true``), summarizes the same dev articles with exactly
``--tokens`` new tokens each, and reports the server's own prompt rate and decode time per token. The
default settings run first and last, so their spread shows the machine's run-to-run noise.

    python eval/scripts/llama_server_settings.py --articles 6 --out eval/llama-server-settings.md
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from script_report import command, save

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.specs import resolve_spec

N_BULLETS = 5
# name -> extra llama-server flags (later flags override the backend's own).
SETTINGS = {
    "defaults": [],
    "1 thread": ["-t", "1"],
    "poll 100": ["--poll", "100"],
    "strict CPU placement": ["--cpu-strict", "1"],
    "flash attention off": ["-fa", "off"],
    "micro-batch 256": ["-ub", "256"],
    "Q8_0 KV cache": ["-ctk", "q8_0", "-ctv", "q8_0"],
    "no RAM prompt cache": ["--cache-ram", "0"],
    "defaults again": [],
}


def measure(texts: list[str], tokens: int, args: list[str]) -> dict[str, float]:
    base = resolve_spec("smollm2-135m")
    options = {**base.options, "runtime": "llama-server", "cache_prefix": True, "max_tokens": tokens,
               "server_args": args}
    backend = create_backend(base.model_copy(update={"options": options}))
    backend.ensure_loaded()
    try:
        backend.complete({**backend.chat_request(Article(id="", text="The council met."), N_BULLETS), "max_tokens": 4})
        start, timings = time.perf_counter(), []
        for text in texts:
            request = {**backend.chat_request(Article(id="", text=text), N_BULLETS), "ignore_eos": True}
            timings.append(backend.chat(request)["timings"])
        wall = time.perf_counter() - start
    finally:
        backend.close()
    return {
        "wall_seconds": wall,
        "prompt_tokens_per_second": sum(t["prompt_n"] for t in timings) / sum(t["prompt_ms"] / 1000 for t in timings),
        "decode_ms_per_token": sum(t["predicted_ms"] for t in timings) / sum(t["predicted_n"] for t in timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    texts = [record.article for record in load_dev_records(dev_set_path(), args.articles)][: args.articles]
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# llama-server settings, one article at a time", "",
        command("llama_server_settings.py", f"--articles {args.articles}", args.out, python="python")
        + f", started {started} on {platform.processor() or platform.machine()}, {args.articles} dev articles, "
        f"exactly {args.tokens} new tokens each, SmolLM2-135M Q4_1, `cache_prefix: true`.", "",
        "| setting | flags | wall s | prompt tokens/s | decode ms/token |", "|---|---|---|---|---|",
    ]
    for name, flags in SETTINGS.items():
        result = measure(texts, args.tokens, flags)
        lines.append(f"| {name} | `{' '.join(flags) or '-'}` | {result['wall_seconds']:.1f} | "
                     f"{result['prompt_tokens_per_second']:.0f} | {result['decode_ms_per_token']:.1f} |")
        print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
