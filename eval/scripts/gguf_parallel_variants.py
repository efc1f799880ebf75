"""What limits llama.cpp's parallel decoding on this machine: `summarizer bench`'s llama.cpp worker with
server settings changed one at a time, decode-dominated inputs, and ik_llama.cpp with several sequences.

Every run is a fresh process (model load and warm-up untimed) on the same dev-set articles, writing
``--tokens`` tokens each (``ignore_eos``), like the bench's GGUF section. Ratios are 1 slot / N slots,
each within one setting. The ik_llama.cpp part drives its C API directly (our ik-llama-cpp backend
uses one sequence only; summarizer/backends/ik_native.py says why, with the numbers this prints).

    .venv/bin/python eval/scripts/gguf_parallel_variants.py --articles 8 --out eval/gguf-parallel.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from summarizer.bench.child import run_child
from summarizer.bench.data import dev_set_path
from summarizer.bench.machine import describe_machine
from summarizer.bench.rounds import interleave

SCRIPT_DIR = Path(__file__).resolve().parent
SHORT_WORDS = 20
N_BULLETS = 5
# Words compared between one sequence alone and the same sequence decoded beside another.
AGREEMENT_WORDS = 8


def llama(texts: list[str], tokens: int, slots: int, server: dict[str, Any] | None = None) -> float:
    """Wall seconds of the bench's llama.cpp worker on Q8_0 weights (the bench's until it took Q4_0-ffn)."""
    payload = {"new_tokens": tokens, "n_parallel": slots, "texts": texts, "server": server or {}, "requantize": "Q8_0"}
    return run_child("summarizer.bench.gguf:llama_cpp_worker", payload)["wall_seconds"]


def replicas_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: one server per core, each with one thread and ``n_parallel`` slots, taking articles from
    one queue (data parallelism: no thread of one server waits for another's)."""
    import queue
    import threading

    from summarizer.backends.llama_cpp import reply_text
    from summarizer.bench.gguf import bench_request, loaded_llama_cpp
    from summarizer.bench.rounds import stopwatch

    slots = payload["n_parallel"]
    backends = [loaded_llama_cpp(payload, n_threads=1) for _ in range(os.cpu_count() or 1)]
    todo: queue.Queue[int] = queue.Queue()
    for index in range(len(payload["texts"])):
        todo.put(index)
    texts = [""] * len(payload["texts"])

    def drain(backend: Any) -> None:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            texts[index] = reply_text(backend.chat(bench_request(backend, payload["texts"][index])))

    with stopwatch() as times:
        threads = [threading.Thread(target=drain, args=(backend,)) for backend in backends for _ in range(slots)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for backend in backends:
        backend.close()
    return {"texts": texts, **times}


def replicas(texts: list[str], tokens: int, slots: int) -> float:
    payload = {"new_tokens": tokens, "n_parallel": slots, "texts": texts}
    return run_child("gguf_parallel_variants:replicas_worker", payload,
                     env={"PYTHONPATH": str(SCRIPT_DIR)})["wall_seconds"]


def abba(one: Callable[[], float], many: Callable[[], float], rounds: int) -> tuple[float, float]:
    """Mean seconds of ``one`` and ``many`` over ``rounds`` rounds, in the bench's ABBA order (the machine is
    shared: a slow stretch then weighs on both)."""
    runs = {"one": one, "many": many}
    results = interleave(list(runs), rounds, lambda variant: {"wall_seconds": runs[variant]()})
    seconds = {variant: [m["wall_seconds"] for m in measured] for variant, measured in results.items()}
    return sum(seconds["one"]) / len(seconds["one"]), sum(seconds["many"]) / len(seconds["many"])


def ik_sequences_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: ik_llama.cpp, articles decoded ``sequences`` at a time in one context (greedy, ignore EOS)."""
    import numpy as np

    from summarizer.articles import Article
    from summarizer.backends.ik_native import IkSession, api
    from summarizer.gguf_convert import reencoded
    from summarizer.gguf_models import packaged_gguf
    from summarizer.prompts import build_messages

    C = api()
    sequences, tokens, flash = payload["sequences"], payload["new_tokens"], payload["flash_attn"]
    session = IkSession(reencoded(packaged_gguf(), "Q8_0"), n_ctx=64, n_threads=None, flash_attn=flash, repack=True)
    prompts = [session.tokenize(session.chat_prompt(build_messages(Article(id="", text=text), N_BULLETS)),
                                add_special=True) for text in payload["texts"]]
    params = C.llama_context_default_params()
    params.n_ctx = sequences * (max(len(p) for p in prompts) + tokens + 64)
    params.n_batch = params.n_ubatch = session.n_batch
    params.n_seq_max = sequences
    params.n_threads = params.n_threads_batch = os.cpu_count() or 1
    params.flash_attn = flash
    context = C.llama_init_from_model(session._model, params)
    batch = C.llama_batch_init(session.n_batch, 0, sequences)

    def decode(entries: list[tuple[int, int, int, bool]]) -> None:
        for start in range(0, len(entries), session.n_batch):
            chunk = entries[start : start + session.n_batch]
            batch.n_tokens = len(chunk)
            for i, (token, position, sequence, logits) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, position, 1
                batch.seq_id[i][0], batch.logits[i] = sequence, int(logits)
            if C.llama_decode(context, batch) != 0:
                raise RuntimeError("llama_decode failed")

    def argmax(row: int) -> int:
        return int(np.argmax(np.ctypeslib.as_array(C.llama_get_logits_ith(context, row), shape=(session.n_vocab,))))

    outputs: list[list[int]] = [[] for _ in prompts]
    prompt_seconds = decode_seconds = 0.0
    for first in range(0, len(prompts), sequences):
        group = list(range(first, min(first + sequences, len(prompts))))
        C.llama_kv_cache_clear(context)
        started = time.perf_counter()
        for sequence, index in enumerate(group):
            decode([(t, p, sequence, p == len(prompts[index]) - 1) for p, t in enumerate(prompts[index])])
            outputs[index].append(argmax(-1))
        prompt_done = time.perf_counter()
        for step in range(tokens - 1):
            decode([(outputs[i][-1], len(prompts[i]) + step, s, True) for s, i in enumerate(group)])
            for row, index in enumerate(group):
                outputs[index].append(argmax(row))
        prompt_seconds += prompt_done - started
        decode_seconds += time.perf_counter() - prompt_done
    texts = [session.detokenize(output) for output in outputs]
    return {"prompt_seconds": prompt_seconds, "decode_seconds": decode_seconds, "texts": texts}


def ik(texts: list[str], tokens: int, sequences: int, flash_attn: bool) -> dict[str, Any]:
    payload = {"new_tokens": tokens, "sequences": sequences, "flash_attn": flash_attn, "texts": texts}
    return run_child("gguf_parallel_variants:ik_sequences_worker", payload, env={"PYTHONPATH": str(SCRIPT_DIR)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds per setting; seconds are their mean")
    parser.add_argument("--out", type=Path, default=Path("eval/gguf-parallel.md"))
    args = parser.parse_args()
    with open(dev_set_path(), encoding="utf-8") as handle:
        texts = [json.loads(line)["article"] for line, _ in zip(handle, range(args.articles))]
    short = [" ".join(text.split()[:SHORT_WORDS]) for text in texts]
    n, tokens = args.articles, args.tokens

    settings = {
        "as in the bench (flash attention auto, f16 KV cache)": (texts, {}),
        "flash attention off": (texts, {"flash_attn_type": 0}),
        "KV cache Q8_0 (flash attention on)": (texts, {"flash_attn_type": 1, "cache_type": "Q8_0"}),
        "KV cache F32, flash attention off": (texts, {"flash_attn_type": 0, "cache_type": "F32"}),
        "KV cache F32, flash attention on": (texts, {"flash_attn_type": 1, "cache_type": "F32"}),
        "KV cache BF16, flash attention on": (texts, {"flash_attn_type": 1, "cache_type": "BF16"}),
        # One KV buffer for every slot: each token then attends over all slots' cells, masked.
        "one KV buffer shared by the slots (kv_unified)": (texts, {"kv_unified": True}),
        "micro-batch 2048 (n_ubatch)": (texts, {"n_ubatch": 2048}),
        f"articles cut to {SHORT_WORDS} words (decoding dominates)": (short, {}),
    }
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    bench_one = 0.0
    for name, (inputs, server) in settings.items():
        one, many = abba(partial(llama, inputs, tokens, 1, server), partial(llama, inputs, tokens, n, server),
                         args.rounds)
        bench_one = bench_one or one
        rows.append(f"| llama.cpp (xllamacpp): {name} | {one:.1f} | {many:.1f} | {one / many:.2f}x |")
        print(rows[-1], flush=True)
    cores = os.cpu_count() or 1
    per_server = max(1, n // cores)
    one, many = abba(partial(replicas, texts, tokens, 1), partial(replicas, texts, tokens, per_server), args.rounds)
    rows.append(f"| llama.cpp (xllamacpp): {cores} servers of 1 thread each, 1 slot each vs {per_server} slots each "
                f"({bench_one / one:.2f}x and {bench_one / many:.2f}x the first row's 1 slot) | {one:.1f} | "
                f"{many:.1f} | {one / many:.2f}x |")
    print(rows[-1], flush=True)

    alone = ik(texts, tokens, 1, flash_attn=True)
    together = ik(texts, tokens, n, flash_attn=False)
    alone_s = alone["prompt_seconds"] + alone["decode_seconds"]
    together_s = together["prompt_seconds"] + together["decode_seconds"]
    rows.append(f"| ik_llama.cpp: 1 sequence with flash attention vs {n} sequences without | {alone_s:.1f} | "
                f"{together_s:.1f} | {alone_s / together_s:.2f}x |")
    print(rows[-1], flush=True)
    pair = ik(texts[:2], 32, 2, flash_attn=True)
    agree = [alone["texts"][i].split()[:AGREEMENT_WORDS] == pair["texts"][i].split()[:AGREEMENT_WORDS]
             for i in range(2)]

    machine = describe_machine()
    lines = [
        "# GGUF: what limits parallel decoding here", "",
        "Generated by:", "", "```",
        f"python eval/scripts/gguf_parallel_variants.py --articles {n} --tokens {tokens} --rounds {args.rounds} "
        f"--out {args.out}",
        "```", "",
        f"SmolLM2-135M (Q4_1 re-encoded as Q8_0), the first {n} dev-set articles, the {N_BULLETS}-bullet chat "
        f"prompt, exactly {tokens} new tokens each. llama.cpp rows run `summarizer bench`'s worker (our "
        f"llama-cpp backend's embedded server) with 1 slot and with {n} slots, one setting changed per row; "
        f"each number is the mean of {args.rounds} fresh processes (load and warm-up untimed), 1 slot and "
        f"{n} slots in ABBA order. "
        f"CPU: {machine.cpu_model} ({machine.vendor}, family {machine.cpu_family}), {machine.physical_cores} cores, "
        f"{', '.join(machine.vector_extensions)}; started {started}.", "",
        f"| setting | 1 slot s | {n} slots s | ratio |", "|---|---|---|---|", *rows, "",
        f"ik_llama.cpp prompt / decode seconds: 1 sequence {alone['prompt_seconds']:.1f} / "
        f"{alone['decode_seconds']:.1f} ({alone['decode_seconds'] / (n * (tokens - 1)) * 1000:.2f} ms per token); "
        f"{n} sequences without flash attention {together['prompt_seconds']:.1f} / {together['decode_seconds']:.1f} "
        f"({together['decode_seconds'] / (tokens - 1) * 1000 / n:.2f} ms per token and sequence).", "",
        "ik_llama.cpp, 2 sequences decoded together with flash attention, first "
        f"{AGREEMENT_WORDS} words equal to the same article decoded alone: "
        f"sequence 0 {'yes' if agree[0] else '**no**'}, sequence 1 {'yes' if agree[1] else '**no**'}. "
        f"Sequence 0 together: {pair['texts'][0][:80]!r}; alone: {alone['texts'][0][:80]!r}.", "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[-4:]))


if __name__ == "__main__":
    main()
