"""The seq2seq section of eval/bench.py: our hf-seq2seq backend against transformers' own generation.

The model is a small BART with random weights (no hub access; the compute does not depend on the
weights) and a byte-level BPE tokenizer trained on dev-set text, saved like a hub model and reused
from the cache while its recipe is unchanged. Both sides decode greedily for exactly ``new_tokens``
tokens, so they do the same work and must write the same text.

The baseline re-enacts what transformers 4.x's ``pipeline("summarization")`` did with its defaults
(transformers 5 removed that pipeline): one article at a time, tokenized without padding or truncation,
``model.generate`` under ``torch.no_grad``, decoded with ``skip_special_tokens``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from summarizer.paths import cache_dir

ARCHITECTURE = {
    "d_model": 256, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
    "decoder_attention_heads": 4, "encoder_ffn_dim": 1024, "decoder_ffn_dim": 1024, "vocab_size": 8192,
    "max_position_embeddings": 1024,
}
# distilbart-cnn's generation settings, greedy: what a user of the backend gets with num_beams 1.
GENERATION = {"no_repeat_ngram_size": 3, "forced_bos_token_id": 0, "forced_eos_token_id": 2}
BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# Ids the trained tokenizer lacks keep their logits but can never be picked (they cannot be decoded).
UNUSED_ID_BIAS = -1e4
WARMUP_TEXT = "The council met on Tuesday."
VARIANTS = ("transformers generate", "hf-seq2seq")


def train_tokenizer(corpus: Sequence[str], vocab_size: int, model_max_length: int) -> Any:
    """Byte-level BPE with BART's special tokens and ``<s> ... </s>`` framing."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token=None))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=BART_SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(corpus, trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", backend.token_to_id("<s>")), ("</s>", backend.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        mask_token="<mask>", model_max_length=model_max_length, clean_up_tokenization_spaces=False)


def build_model(corpus: Sequence[str]) -> Path:
    """The random BART (built once, then reused while the recipe is the same)."""
    recipe = {"architecture": ARCHITECTURE, "generation": GENERATION, "seed": 0,
              "corpus_sha256": hashlib.sha256("\n".join(corpus).encode("utf-8")).hexdigest()[:16]}
    directory = cache_dir("bench") / f"bart-random-d{ARCHITECTURE['d_model']}"
    recipe_path = directory / "bench-recipe.json"
    if recipe_path.is_file() and json.loads(recipe_path.read_text(encoding="utf-8")) == recipe:
        return directory
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    tokenizer = train_tokenizer(corpus, ARCHITECTURE["vocab_size"], ARCHITECTURE["max_position_embeddings"])
    config = BartConfig(**ARCHITECTURE, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                        tie_word_embeddings=True)
    torch.manual_seed(recipe["seed"])
    model = BartForConditionalGeneration(config)
    with torch.no_grad():
        model.final_logits_bias[:, len(tokenizer):] = UNUSED_ID_BIAS
    model.generation_config.update(**GENERATION)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    recipe_path.write_text(json.dumps(recipe), encoding="utf-8")
    return directory


def fitting_texts(model_dir: Path, texts: Sequence[str], n_articles: int) -> list[str]:
    """The first ``n_articles`` texts the model reads whole, so neither side truncates or chunks."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    lengths = [len(ids) for ids in tokenizer(list(texts), verbose=False)["input_ids"]]
    return [text for text, length in zip(texts, lengths)
            if length <= ARCHITECTURE["max_position_embeddings"]][:n_articles]


def worker_seq2seq(payload: dict[str, Any]) -> dict[str, Any]:
    """Child: one variant over all the texts, model load and a warm-up article untimed."""
    from eval.bench import stopwatch

    texts, new_tokens = payload["texts"], payload["new_tokens"]
    if payload["variant"] == "hf-seq2seq":
        from summarizer.articles import Article
        from summarizer.backends.registry import create_backend
        from summarizer.specs import ModelSpec

        options = {"model": payload["model_dir"], "num_beams": 1, "min_new_tokens": new_tokens,
                   "max_new_tokens": new_tokens, "no_repeat_ngram_size": GENERATION["no_repeat_ngram_size"],
                   "batch_size": len(texts), "device": "cpu", "dtype": "float32"}
        backend = create_backend(ModelSpec(name="bench-bart", backend="hf-seq2seq", options=options))
        backend.ensure_loaded()
        backend.summarize_batch([Article(id="warmup", text=WARMUP_TEXT)], n_bullets=3)
        articles = [Article(id=str(i), text=text) for i, text in enumerate(texts)]
        with stopwatch() as times:
            outputs = list(backend.summarize_many(articles, n_bullets=3))
        if any(output.error for output in outputs):
            raise RuntimeError(next(output.error for output in outputs if output.error))
        return {"items": len(outputs), "texts": [output.text for output in outputs], **times}

    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(payload["model_dir"])
    model = AutoModelForSeq2SeqLM.from_pretrained(payload["model_dir"]).eval()
    generation = {"num_beams": 1, "do_sample": False, "min_new_tokens": new_tokens, "max_new_tokens": new_tokens}

    def summarize(text: str) -> str:
        inputs = tokenizer(text, padding=False, truncation=False, return_tensors="pt")
        inputs.pop("token_type_ids", None)
        with torch.no_grad():
            output_ids = model.generate(**inputs, **generation)
        return tokenizer.decode(output_ids[0], skip_special_tokens=True, clean_up_tokenization_spaces=False).strip()

    summarize(WARMUP_TEXT)
    with stopwatch() as times:
        outputs = [summarize(text) for text in texts]
    return {"items": len(outputs), "texts": outputs, **times}


def run_seq2seq(settings: Any, records: list[dict[str, Any]], run_worker: Callable, interleave: Callable,
                totals: Callable, ratio: Callable) -> dict[str, Any]:
    n_articles = settings.seq2seq_articles
    # The tokenizer learns from the articles not timed and every reference, never from the timed ones.
    corpus = [r["article"] for r in records[n_articles:]] + [ref for r in records for ref in r["references"]]
    model_dir = build_model(corpus)
    texts = fitting_texts(model_dir, [r["article"] for r in records[:n_articles]], n_articles)

    def run(variant: str) -> dict[str, Any]:
        payload = {"variant": variant, "model_dir": str(model_dir), "texts": texts, "new_tokens": settings.new_tokens}
        return run_worker("seq2seq", payload)

    per_round = interleave(VARIANTS, settings.rounds, run)
    per_variant = {name: totals(runs) for name, runs in per_round.items()}
    baseline, ours = per_variant[VARIANTS[0]], per_variant[VARIANTS[1]]
    # An article counts as identical only if both sides wrote the same text in every round.
    identical = sum(all(a == b for a, b in zip(column_a, column_b))
                    for column_a, column_b in zip(zip(*baseline["texts"]), zip(*ours["texts"])))
    return {"articles": len(texts), "new_tokens": settings.new_tokens, "rounds": settings.rounds,
            "architecture": ARCHITECTURE, "variants": per_variant, "identical": identical,
            "ratios": {"hf-seq2seq vs transformers generate": ratio(ours, baseline)}}


def render(result: dict[str, Any], rate_table: Callable) -> list[str]:
    arch = result["architecture"]
    lines = [f"## Seq2seq: hf-seq2seq vs transformers' generate ({result['articles']} dev articles, "
             f"{result['new_tokens']} new tokens each, greedy, CPU, {result['rounds']} rounds)", "",
             f"Model: random BART, d_model {arch['d_model']}, {arch['encoder_layers']}+{arch['decoder_layers']} "
             f"layers, vocab {arch['vocab_size']}, tokenizer trained on dev-set text not timed. Baseline: one "
             "article at a time, as transformers 4.x's pipeline('summarization') ran it; hf-seq2seq: one batch.", ""]
    lines += rate_table(result["variants"], "articles") + [""]
    lines += [f"- **{name}: {value:.3g}x** articles/s (wall)" for name, value in result["ratios"].items()]
    return lines + [f"- Identical greedy outputs: {result['identical']}/{result['articles']} articles in every round"]
