"""CTranslate2 (float32 and int8) against our hf-seq2seq backend on the bench's seq2seq work.

The issue asks for an int8, ONNX Runtime or CTranslate2 path if it wins with ROUGE within 0.5 points of
fp32. This measures the speed half on the bench's BART with distilbart-cnn-6-6's architecture (random
weights, built or reused as `summarizer bench` does), the same 32 articles and exactly 142 new tokens
each (greedy, no_repeat_ngram_size 3, distilbart's forced BOS), one process, the variants taking turns
over all articles ``--rounds`` times (ABBA). The ROUGE half needs a trained model, which no PyPI package
carries: with random weights the text says nothing about quality, so the report gives only how many
articles each variant writes exactly as hf-seq2seq (fp32 torch) does.

    pip install -e '.[ctranslate2]'
    .venv/bin/python eval/scripts/seq2seq_ctranslate2.py --out eval/seq2seq-ctranslate2.md
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from script_report import command, save

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.machine import describe_machine
from summarizer.bench.rounds import interleave, stopwatch
from summarizer.bench.seq2seq import DISTILBART_GENERATION, WARMUP_TEXT, backend_options, bench_model
from summarizer.bench.suite import default_work_dir
from summarizer.specs import ModelSpec

ARTICLES = 32
NEW_TOKENS = 142


def convert(model_dir: Path, out_dir: Path) -> Path:
    """The transformers model as a CTranslate2 model directory (once).

    CTranslate2 4.8's BART loader was written for transformers 4: it reads ``config.normalize_before``
    (gone from transformers 5's BartConfig; BART is post-norm, so False) and wants one vocabulary entry
    per embedding row (the bench's tokenizer has fewer tokens than distilbart's 50264 rows; the rest
    get placeholder names and keep their -1e4 logit bias).
    """
    if (out_dir / "model.bin").is_file():
        return out_dir
    from ctranslate2.converters import transformers as ct2_transformers

    loader = ct2_transformers.BartLoader
    get_model_spec, get_vocabulary = loader.get_model_spec, loader.get_vocabulary

    def model_spec(self: Any, model: Any) -> Any:
        if not hasattr(model.config, "normalize_before"):
            model.config.normalize_before = False
        return get_model_spec(self, model)

    def vocabulary(self: Any, model: Any, tokenizer: Any) -> list[str]:
        tokens = get_vocabulary(self, model, tokenizer)
        return tokens + [f"<unused_{i}>" for i in range(len(tokens), model.config.vocab_size)]

    loader.get_model_spec, loader.get_vocabulary = model_spec, vocabulary
    try:
        ct2_transformers.TransformersConverter(str(model_dir)).convert(str(out_dir), force=True)
    finally:
        loader.get_model_spec, loader.get_vocabulary = get_model_spec, get_vocabulary
    return out_dir


def main() -> None:
    try:
        import ctranslate2
    except ImportError:
        raise SystemExit("this script needs CTranslate2: pip install -e '.[ctranslate2]'") from None
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32],
                        help="CTranslate2 max_batch_size values (it sorts articles by length into batches)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model_dir, chosen = bench_model(load_dev_records(dev_set_path()), default_work_dir(), ARTICLES)
    ct2_dir = convert(model_dir, model_dir.with_name(model_dir.name + "-ct2"))
    articles = [Article(id=str(i), text=record.article) for i, record in enumerate(chosen)]
    threads = torch.get_num_threads()

    backend = create_backend(ModelSpec(name="bench-distilbart-cnn-6-6", backend="hf-seq2seq",
                                       options=backend_options(model_dir, NEW_TOKENS, ARTICLES, "cpu")))
    backend.ensure_loaded()
    tokenizer = backend.tokenizer
    sources = [tokenizer.convert_ids_to_tokens(tokenizer(article.text)["input_ids"]) for article in articles]
    bos = tokenizer.convert_ids_to_tokens(DISTILBART_GENERATION["forced_bos_token_id"])

    def hf_seq2seq() -> list[str]:
        return [output.text for output in backend.summarize_many(articles, n_bullets=3)]

    def ct2_variant(compute_type: str, batch_size: int) -> Any:
        translator = ctranslate2.Translator(str(ct2_dir), device="cpu", compute_type=compute_type,
                                            inter_threads=1, intra_threads=threads)
        translator.translate_batch(sources[:1], beam_size=1, max_decoding_length=4)  # warm-up

        def run() -> list[str]:
            results = translator.translate_batch(
                sources, max_batch_size=batch_size, batch_type="examples", beam_size=1,
                no_repeat_ngram_size=DISTILBART_GENERATION["no_repeat_ngram_size"],
                min_decoding_length=NEW_TOKENS, max_decoding_length=NEW_TOKENS,
                target_prefix=[[bos]] * len(sources))
            # transformers' forced EOS replaces the last of its NEW_TOKENS tokens; CTranslate2 computes the same
            # number of steps and writes a word there, so that one is left out of the text compared.
            return [tokenizer.decode(tokenizer.convert_tokens_to_ids(result.hypotheses[0][: NEW_TOKENS - 1]),
                                     skip_special_tokens=True, clean_up_tokenization_spaces=False).strip()
                    for result in results]

        return run

    variants = {"hf-seq2seq (fp32 torch, batch 32)": hf_seq2seq}
    for compute_type in ("float32", "int8"):
        for batch_size in args.batch_sizes:
            variants[f"CTranslate2 {compute_type}, batch {batch_size}"] = ct2_variant(compute_type, batch_size)
    # Warm-up, untimed: first calls pick kernels and allocate.
    backend.summarize_batch([Article(id="warmup", text=WARMUP_TEXT)], n_bullets=3)

    def timed(name: str) -> dict[str, Any]:
        with stopwatch() as times, torch.inference_mode():
            written = variants[name]()
        print(f"{name}: {times['wall_seconds']:.1f} s", flush=True)
        return {"texts": written, **times}

    per_round = interleave(list(variants), args.rounds, timed)
    seconds = {name: [measurement["wall_seconds"] for measurement in runs] for name, runs in per_round.items()}
    texts = {name: runs[-1]["texts"] for name, runs in per_round.items()}
    baseline_name = next(iter(variants))
    baseline = sum(seconds[baseline_name])
    reference = texts[baseline_name]
    machine = describe_machine()
    lines = [
        "# Seq2seq: CTranslate2 float32 and int8 against hf-seq2seq", "",
        command("seq2seq_ctranslate2.py", "", args.out)
        + f", started {started} on {machine.cpu_model} ({machine.physical_cores} physical cores), "
        f"CTranslate2 {ctranslate2.__version__}, torch {torch.__version__}, {threads} threads each. "
        f"The bench's BART with distilbart-cnn-6-6's architecture (random weights), {len(articles)} dev-set "
        f"articles, exactly {NEW_TOKENS} new tokens each, greedy, no_repeat_ngram_size 3, forced BOS (and "
        "transformers' forced EOS as the last token, whose place CTranslate2 fills with a word, left out of "
        "the comparison); "
        f"{args.rounds} ABBA rounds in one process, each over all articles.", "",
        "| variant | wall s (all rounds) | articles/s | vs hf-seq2seq | same text as hf-seq2seq |",
        "|---|---|---|---|---|",
    ]
    for name, values in seconds.items():
        total = sum(values)
        same = sum(a == b for a, b in zip(texts[name], reference))
        lines.append(f"| {name} | {total:.1f} | {len(articles) * len(values) / total:.3f} | "
                     f"{baseline / total:.2f}x | {same}/{len(articles)} |")
    lines += [
        "",
        "- hf-seq2seq is our backend exactly as `summarizer bench` runs it (length-sorted encoder groups of 8, "
        "the decoder over all 32 articles, `torch.inference_mode`); CTranslate2 sorts the articles by length "
        "into batches of at most the given size, encoder and decoder alike.",
        "- int8 is CTranslate2's weight quantization (int8 GEMM; activations quantized on the fly). Its text "
        "differs from fp32's, so it would need the issue's ROUGE check (within 0.5 points of fp32) on a trained "
        "model, which cannot be loaded here (no model hub; random weights make ROUGE meaningless).",
        "",
    ]
    save(lines, args.out)


if __name__ == "__main__":
    main()
