"""Seq2seq throughput: transformers' summarization pipeline against our hf-seq2seq backend.

The model has distilbart-cnn-6-6's architecture with random weights (no hub access here; compute does
not depend on the weights) and a byte-level BPE tokenizer trained on dev-set text. Both sides decode
greedily for exactly ``new_tokens`` tokens, so they do the same work and must write the same text.

The baseline: ``pipeline("summarization")`` was removed in transformers 5, so ``pipeline_worker``
re-enacts what transformers 4.x's SummarizationPipeline did with its defaults for each input:
batch size 1, tokenize without padding or truncation, ``model.generate`` under ``torch.no_grad`` with
the model's generation config plus the call's arguments, decode with ``skip_special_tokens``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from summarizer.bench.child import run_child
from summarizer.bench.data import DevRecord
from summarizer.bench.rounds import (
    agreeing_items,
    combine,
    interleave,
    round_speedups,
    speedup,
    stable_items,
    stopwatch,
    texts_by_round,
)

log = logging.getLogger(__name__)

# sshleifer/distilbart-cnn-6-6's config.json (architecture and generation settings).
DISTILBART_CNN_6_6 = {
    "d_model": 1024,
    "encoder_layers": 6,
    "decoder_layers": 6,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "vocab_size": 50264,
    "max_position_embeddings": 1024,
}
DISTILBART_GENERATION = {
    "num_beams": 4,
    "length_penalty": 2.0,
    "max_length": 142,
    "min_length": 56,
    "no_repeat_ngram_size": 3,
    "early_stopping": True,
    "forced_bos_token_id": 0,
    "forced_eos_token_id": 2,
}
# A 2-layer toy for --quick runs and tests: same code path, seconds instead of minutes.
TINY_ARCHITECTURE = {
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
    "vocab_size": 600,
    # Long enough for every dev-set article with the small vocabulary's longer token sequences.
    "max_position_embeddings": 4096,
}
BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# Logit bias for ids the tokenizer lacks: the LM head still computes all vocab_size logits (as the real
# model does) but greedy decoding never picks an id that cannot be decoded.
UNUSED_ID_BIAS = -1e4
RECIPE_FILE = "bench-recipe.json"
WARMUP_TEXT = "The council met on Tuesday."
VARIANTS = ("pipeline", "hf-seq2seq")
# On a GPU the backend's default dtype is bfloat16 (hf_common.pick_dtype), not the fp32 that pipeline()
# loads: the main comparison pins float32 so that greedy outputs can be identical, and this extra variant
# measures what a GPU user gets by default, with its agreement with pipeline()'s text counted, not required.
HALF_PRECISION_VARIANT = "hf-seq2seq-bf16"
VARIANT_DTYPES = {"hf-seq2seq": "float32", HALF_PRECISION_VARIANT: "bfloat16"}


def variants_for(device: str) -> tuple[str, ...]:
    """The variants timed on ``device`` (a resolved torch device string)."""
    return VARIANTS + ((HALF_PRECISION_VARIANT,) if device.startswith("cuda") else ())


def accelerator_usage(device: str) -> dict[str, float]:
    """The peak memory torch's allocator held on a GPU during the worker (weights, activations, KV
    caches), which RSS does not see; nothing on the CPU."""
    if not device.startswith("cuda"):
        return {}
    import torch

    return {"peak_gpu_mib": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)}


def model_recipe(architecture: dict[str, int], corpus: Sequence[str]) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(corpus).encode("utf-8")).hexdigest()[:16]
    return {"architecture": architecture, "generation": DISTILBART_GENERATION, "corpus_sha256": digest, "seed": 0}


def train_tokenizer(corpus: Sequence[str], vocab_size: int, model_max_length: int):
    """Byte-level BPE with BART's special tokens and ``<s> ... </s>`` framing."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token=None))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=BART_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(corpus, trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", backend.token_to_id("<s>")), ("</s>", backend.token_to_id("</s>"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        mask_token="<mask>", model_max_length=model_max_length, clean_up_tokenization_spaces=False,
    )


def build_model(directory: Path, architecture: dict[str, int], corpus: Sequence[str]) -> Path:
    """A random BART with ``architecture`` and a tokenizer trained on ``corpus``, saved like a hub model.

    Reused when ``directory`` already holds one built from the same recipe.
    """
    recipe = model_recipe(architecture, corpus)
    recipe_path = directory / RECIPE_FILE
    if recipe_path.is_file() and json.loads(recipe_path.read_text(encoding="utf-8")) == recipe:
        return directory
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    # The BPE trainer stops when the corpus has no more pairs to merge, so the tokenizer can be
    # smaller than vocab_size; the model keeps the full vocab_size (see UNUSED_ID_BIAS).
    tokenizer = train_tokenizer(corpus, architecture["vocab_size"], architecture["max_position_embeddings"])
    config = BartConfig(
        **architecture,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(recipe["seed"])
    model = BartForConditionalGeneration(config)
    with torch.no_grad():
        model.final_logits_bias[:, len(tokenizer):] = UNUSED_ID_BIAS
    model.generation_config.update(**DISTILBART_GENERATION)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    recipe_path.write_text(json.dumps(recipe), encoding="utf-8")
    return directory


def tokenizer_corpus(records: Sequence[DevRecord], benchmarked: int) -> list[str]:
    """Training text for the tokenizer: the dev-set articles not benchmarked, and every reference."""
    held_out = [record.article for record in records[benchmarked:]]
    references = [reference for record in records for reference in record.references]
    return held_out + references or [record.article for record in records]


def fixed_length_generation(new_tokens: int) -> dict[str, Any]:
    """Greedy decoding for exactly ``new_tokens`` tokens (the rest comes from the generation config)."""
    return {"num_beams": 1, "do_sample": False, "min_new_tokens": new_tokens, "max_new_tokens": new_tokens}


def bart_flops(architecture: dict[str, int], input_lengths: Sequence[int], new_tokens: int) -> float:
    """Multiply-adds x 2 of greedy BART generation: encoder, cross-attention keys/values, decoder
    steps with their attention over the growing output and the input, and the LM head. Padding is not
    counted: this is the useful work, the same for both sides."""
    d, vocab = architecture["d_model"], architecture["vocab_size"]
    enc_ffn, dec_ffn = architecture["encoder_ffn_dim"], architecture["decoder_ffn_dim"]
    enc_layers, dec_layers = architecture["encoder_layers"], architecture["decoder_layers"]
    total = 0.0
    for length in input_lengths:
        encoder = enc_layers * (length * (8 * d * d + 4 * d * enc_ffn) + 4 * length * length * d)
        cross_keys_values = dec_layers * length * 4 * d * d
        decoder = 0.0
        for step in range(1, new_tokens + 1):
            per_layer = 8 * d * d + 4 * d * d + 4 * d * dec_ffn + 4 * step * d + 4 * length * d
            decoder += dec_layers * per_layer + 2 * d * vocab
        total += encoder + cross_keys_values + decoder
    return total


def pick_torch_device(requested: str) -> str:
    import torch

    from summarizer.backends.hf_common import pick_device

    return pick_device(requested, torch)


def pipeline_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: transformers 4.x SummarizationPipeline's per-input path, with its defaults."""
    import torch
    import transformers

    from summarizer.hub import load_pretrained

    model_dir, new_tokens = payload["model_dir"], payload["new_tokens"]
    device = pick_torch_device(payload.get("device", "auto"))
    tokenizer = load_pretrained(transformers.AutoTokenizer.from_pretrained, model_dir)
    model = load_pretrained(transformers.AutoModelForSeq2SeqLM.from_pretrained, model_dir).to(device).eval()
    generate_kwargs = fixed_length_generation(new_tokens)
    prefix = getattr(model.config, "prefix", None) or ""

    def summarize(text: str) -> tuple[str, int]:
        inputs = tokenizer(prefix + text, padding=False, truncation=False, return_tensors="pt").to(device)
        inputs.pop("token_type_ids", None)
        with torch.no_grad():
            output_ids = model.generate(**inputs, **generate_kwargs)
        generated = output_ids.shape[1] - 1  # minus the decoder start token
        return tokenizer.decode(output_ids[0], skip_special_tokens=True, clean_up_tokenization_spaces=False), generated

    summarize(WARMUP_TEXT)  # first call picks kernels and allocates; not part of the timing
    texts, generated = [], 0
    with stopwatch() as times:
        for text in payload["texts"]:
            summary, count = summarize(text)
            texts.append(summary.strip())
            generated += count
    return {"items": len(texts), "generated_tokens": generated, "texts": texts, "device": device, **times,
            **accelerator_usage(device)}


def backend_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: our hf-seq2seq backend through Backend.summarize_many, as `summarizer run` calls it."""
    from summarizer.articles import Article
    from summarizer.backends.registry import create_backend
    from summarizer.specs import ModelSpec

    spec = ModelSpec(name="bench-distilbart-cnn-6-6", backend="hf-seq2seq", options=payload["options"])
    backend = create_backend(spec)
    backend.ensure_loaded()
    backend.summarize_batch([Article(id="warmup", text=WARMUP_TEXT)], n_bullets=3)
    articles = [Article(id=str(i), text=text) for i, text in enumerate(payload["texts"])]
    with stopwatch() as times:
        outputs = list(backend.summarize_many(articles, n_bullets=3))
    errors = [output.error for output in outputs if output.error]
    if errors:
        raise RuntimeError(f"hf-seq2seq failed: {errors[0]}")
    texts = [output.text for output in outputs]
    return {
        "items": len(texts),
        # min_new_tokens = max_new_tokens, so every article gets exactly new_tokens tokens.
        "generated_tokens": len(texts) * payload["new_tokens"],
        "texts": texts,
        "device": backend.device,
        "encoder_batch_size": backend.options.encoder_batch_size,
        "paths": sorted({output.path for output in outputs}),
        **times,
        **accelerator_usage(backend.device),
    }


def backend_options(model_dir: Path, new_tokens: int, batch_size: int, device: str,
                    dtype: str = "float32") -> dict[str, Any]:
    return {
        "model": str(model_dir),
        # The backend has no sampling option: it always decodes deterministically.
        "num_beams": 1,
        "min_new_tokens": new_tokens,
        "max_new_tokens": new_tokens,
        "no_repeat_ngram_size": DISTILBART_GENERATION["no_repeat_ngram_size"],
        "batch_size": batch_size,
        "device": device,
        "dtype": dtype,
    }


def input_lengths(model_dir: Path, texts: Sequence[str]) -> list[int]:
    from transformers import AutoTokenizer

    from summarizer.hub import load_pretrained

    tokenizer = load_pretrained(AutoTokenizer.from_pretrained, str(model_dir))
    return [len(ids) for ids in tokenizer(list(texts), verbose=False)["input_ids"]]


def fitting_records(records: Sequence[DevRecord], model_dir: Path, limit: int, n_articles: int) -> list[DevRecord]:
    """The first ``n_articles`` records whose article fits the model's input in one pass, so that
    neither side truncates or chunks and both read the whole article."""
    lengths = input_lengths(model_dir, [record.article for record in records])
    return [record for record, length in zip(records, lengths) if length <= limit][:n_articles]


def bench_model(records: Sequence[DevRecord], work_dir: Path, n_articles: int,
                architecture: dict[str, int] | None = None) -> tuple[Path, list[DevRecord]]:
    """The bench's BART (built once under ``work_dir``, then reused) and the first ``n_articles`` records
    that it reads whole: run_seq2seq's inputs, for the eval scripts too."""
    architecture = architecture or DISTILBART_CNN_6_6
    model_dir = build_model(
        work_dir / f"bart-random-d{architecture['d_model']}", architecture, tokenizer_corpus(records, n_articles)
    )
    # Articles must come from the benchmarked slice, not the tokenizer's training text.
    chosen = fitting_records(records[:n_articles], model_dir, architecture["max_position_embeddings"], n_articles)
    return model_dir, chosen


def run_seq2seq(
    records: Sequence[DevRecord],
    work_dir: Path,
    n_articles: int = 32,
    new_tokens: int = 64,
    batch_size: int = 16,
    rounds: int = 2,
    device: str = "auto",
    architecture: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Build (or reuse) the model, then time both sides over the same articles in ABBA rounds."""
    architecture = architecture or DISTILBART_CNN_6_6
    model_dir, chosen = bench_model(records, work_dir, n_articles, architecture)
    texts = [record.article for record in chosen]
    resolved = pick_torch_device(device)
    variants = variants_for(resolved)

    def run(variant: str) -> dict[str, Any]:
        options = backend_options(model_dir, new_tokens, batch_size, resolved, VARIANT_DTYPES.get(variant, "float32"))
        payload = {"model_dir": str(model_dir), "new_tokens": new_tokens, "device": resolved, "texts": texts,
                   "options": options}
        worker = "pipeline_worker" if variant == "pipeline" else "backend_worker"
        result = run_child(f"summarizer.bench.seq2seq:{worker}", payload)
        log.info("seq2seq %s: %d articles in %.1f s", variant, result["items"], result["wall_seconds"])
        return result

    per_round = interleave(variants, rounds, run)
    lengths = input_lengths(model_dir, texts)
    flops = bart_flops(architecture, lengths, new_tokens)
    totals = {}
    for variant, measurements in per_round.items():
        for measurement in measurements:
            measurement["flops"] = flops
        totals[variant] = combine(measurements)
    outputs = {variant: texts_by_round(per_round[variant]) for variant in variants}
    result = {
        "model": {"architecture": architecture, "directory": str(model_dir),
                  "parameters_millions": round(parameter_count(architecture) / 1e6, 1),
                  "tokenizer_vocab": tokenizer_size(model_dir)},
        "articles": len(texts),
        "input_tokens": {"mean": round(sum(lengths) / len(lengths), 1), "min": min(lengths), "max": max(lengths)},
        "new_tokens": new_tokens,
        "batch_size": batch_size,
        "largest_batch": min(batch_size, len(texts)),
        "encoder_batch_size": per_round["hf-seq2seq"][0].get("encoder_batch_size"),
        "rounds": rounds,
        "device": per_round["hf-seq2seq"][0].get("device", resolved),
        "dtype": VARIANT_DTYPES["hf-seq2seq"],
        "variants": totals,
        # An article counts as identical only if both sides wrote the same text in every round.
        "identical_outputs": agreeing_items(outputs["pipeline"], outputs["hf-seq2seq"], str.__eq__),
        "stable_outputs": {variant: stable_items(outputs[variant]) for variant in variants},
        "speedup": speedup(totals["hf-seq2seq"], totals["pipeline"]),
        "speedup_cpu": speedup(totals["hf-seq2seq"], totals["pipeline"], "items_per_cpu_second"),
        "round_speedups": round_speedups(per_round["hf-seq2seq"], per_round["pipeline"]),
        "sample_output": outputs["hf-seq2seq"][0][0][:120] if texts else "",
    }
    if HALF_PRECISION_VARIANT in totals:
        half = totals[HALF_PRECISION_VARIANT]
        result["half_precision"] = {
            "variant": HALF_PRECISION_VARIANT,
            "dtype": VARIANT_DTYPES[HALF_PRECISION_VARIANT],
            "speedup": speedup(half, totals["pipeline"]),
            "speedup_vs_float32": speedup(half, totals["hf-seq2seq"]),
            "identical_outputs": agreeing_items(outputs["pipeline"], outputs[HALF_PRECISION_VARIANT], str.__eq__),
        }
    return result


def parameter_count(architecture: dict[str, int]) -> int:
    """Parameters of a BART with tied embeddings (biases and layer norms included approximately)."""
    d = architecture["d_model"]
    encoder_layer = 4 * d * d + 2 * d * architecture["encoder_ffn_dim"]
    decoder_layer = 8 * d * d + 2 * d * architecture["decoder_ffn_dim"]
    embeddings = architecture["vocab_size"] * d + 2 * architecture["max_position_embeddings"] * d
    return architecture["encoder_layers"] * encoder_layer + architecture["decoder_layers"] * decoder_layer + embeddings


def tokenizer_size(model_dir: Path) -> int:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(model_dir / "tokenizer.json")).get_vocab_size()
