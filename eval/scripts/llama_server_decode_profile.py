"""Where llama.cpp's decoding time goes, one sequence against several decoded together.

For each slot count it starts our llama-cpp backend's server for the `smollm2-135m` spec (``--runtime``:
llama-server, the child process `runtime: llama-server` runs, or xllamacpp's in-process server;
``--requantize Q8_0`` re-encodes the weights as the bench does), computes that many dev-article prompts
(cached in their slots), then decodes ``--tokens`` tokens for each, all slots at once, under ``perf record``
(Debian: ``apt-get install linux-perf``). It prints the decode time per step and per token, and the share of
samples in the CPU flash-attention kernel (its own function, the f16 dot products it calls per cached
position and libm's ``expf`` it calls per position) against the rest.

    .venv/bin/python eval/scripts/llama_server_decode_profile.py --slots 1 8 16 \
        --out eval/llama-server-decode-profile.md
    .venv/bin/python eval/scripts/llama_server_decode_profile.py --runtime xllamacpp --requantize Q8_0 \
        --slots 1 8 16 --out eval/xllamacpp-decode-profile-amd-epyc.md
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from script_report import command, machine_line, save

from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.gguf import loaded_llama_cpp

CONTEXT_PER_SLOT = 4096
# Symbols of the CPU flash-attention path: the kernel, its per-position K dot products and exponentials.
ATTENTION_SYMBOLS = ("ggml_compute_forward_flash_attn_ext", "ggml_vec_dot_f16", "__expf_fma", "expf")


def symbol_shares(perf_data: Path) -> dict[str, float]:
    report = subprocess.run(["perf", "report", "-i", str(perf_data), "--no-children", "--sort", "symbol",
                             "--stdio", "-g", "none"], capture_output=True, text=True, check=True).stdout
    shares: dict[str, float] = {}
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if match:
            shares[match.group(2)] = shares.get(match.group(2), 0.0) + float(match.group(1))
    return shares


def profile(slots: int, prompts: list[str], tokens: int, work: Path, runtime: str,
            requantize: str | None) -> dict[str, float]:
    settings = {"n_parallel": slots, "new_tokens": tokens, "runtime": runtime, "requantize": requantize,
                "cache_prefix": False}
    backend = loaded_llama_cpp(settings, n_ctx=CONTEXT_PER_SLOT)
    server = backend.server
    # xllamacpp's server runs inside this process: perf then samples it (and our threads feeding it).
    pid = getattr(server, "pid", None) or os.getpid()
    try:
        def complete(prompt: str, n_predict: int) -> dict:
            return server.handle_completions({"prompt": prompt, "n_predict": n_predict, "ignore_eos": True,
                                              "temperature": 0, "cache_prompt": True})["timings"]

        with ThreadPoolExecutor(slots) as pool:
            list(pool.map(lambda prompt: complete(prompt, 1), prompts))  # prompts now sit in their slots
            perf_data = work / f"perf-{slots}.data"
            recorder = subprocess.Popen(["perf", "record", "-F", "1000", "-g", "-p", str(pid),
                                         "-o", str(perf_data)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            try:
                timings = list(pool.map(lambda prompt: complete(prompt, tokens), prompts))
            finally:
                recorder.send_signal(signal.SIGINT)
                recorder.wait()
    finally:
        backend.close()
    shares = symbol_shares(perf_data)
    step_ms = sum(t["predicted_per_token_ms"] for t in timings) / len(timings)
    return {"step_ms": step_ms, "token_ms": step_ms / slots,
            "attention": sum(shares.get(name, 0.0) for name in ATTENTION_SYMBOLS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runtime", choices=("llama-server", "xllamacpp"), default="llama-server")
    parser.add_argument("--requantize", choices=("Q8_0", "F16", "F32"),
                        help="re-encode the packaged Q4_1 weights first (the bench uses Q8_0)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    records = load_dev_records(dev_set_path(), max(args.slots))
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    flags = [f"--runtime {args.runtime}"] if args.runtime != "llama-server" else []
    flags += [f"--requantize {args.requantize}"] if args.requantize else []
    if args.tokens != 128:
        flags.append(f"--tokens {args.tokens}")
    flags.append("--slots " + " ".join(map(str, args.slots)))
    lines = [
        f"# {args.runtime} decoding: where the time goes", "",
        command("llama_server_decode_profile.py", " ".join(flags), args.out)
        + f", started {started}: {machine_line()}, SmolLM2-135M {args.requantize or 'Q4_1'}, "
        "the first dev articles as raw prompts "
        f"(about {sum(len(r.article) for r in records) // len(records)} characters), {args.tokens} tokens each "
        "decoded after the prompts were computed, all slots at once, sampled by `perf record`.", "",
        "| slots | ms per decode step | ms per generated token | speedup per token vs 1 slot | "
        "flash attention (kernel, f16 dots, expf) share of samples | of each token's ms: attention | the rest |",
        "|---|---|---|---|---|---|---|",
    ]
    single = None
    with tempfile.TemporaryDirectory() as work:
        for slots in args.slots:
            result = profile(slots, [r.article for r in records[:slots]], args.tokens, Path(work), args.runtime,
                             args.requantize)
            single = single or (result["token_ms"] if slots == 1 else None)
            gain = f"{single / result['token_ms']:.2f}x" if single else "-"
            # Attention is per sequence, so batching cannot share it; the rest (matrix products) it can.
            attention_ms = result["token_ms"] * result["attention"] / 100
            lines.append(f"| {slots} | {result['step_ms']:.1f} | {result['token_ms']:.2f} | {gain} | "
                         f"{result['attention']:.0f}% | {attention_ms:.2f} | {result['token_ms'] - attention_ms:.2f} |")
            print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
