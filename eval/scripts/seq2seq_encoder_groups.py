"""hf-seq2seq's encoder alone: the bench's 32 articles padded to the longest in one pass, against the
length-sorted groups ``encoder_batch_size`` gives (each group padded only to its own longest).

The bench's BART with distilbart-cnn-6-6's architecture (built or reused as `summarizer bench` does),
one process, the settings taking turns ``--repeats`` times.

    .venv/bin/python eval/scripts/seq2seq_encoder_groups.py --groups 4 8 16 --out eval/seq2seq-encoder-groups.md
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

from script_report import command, save

from summarizer.backends.registry import create_backend
from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.machine import describe_machine
from summarizer.bench.seq2seq import backend_options, bench_model
from summarizer.bench.suite import default_work_dir
from summarizer.specs import ModelSpec

ARTICLES = 32


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model_dir, chosen = bench_model(load_dev_records(dev_set_path()), default_work_dir(), ARTICLES)
    backend = create_backend(ModelSpec(name="bench-distilbart-cnn-6-6", backend="hf-seq2seq",
                                       options=backend_options(model_dir, 1, ARTICLES, "cpu")))
    backend.ensure_loaded()
    texts = sorted((record.article for record in chosen), key=backend.encoded_length)
    inputs = dict(backend.tokenizer(texts, padding=True, return_tensors="pt"))
    lengths = inputs["attention_mask"].sum(dim=1)
    seconds: dict[int | None, list[float]] = {size: [] for size in [None, *args.groups]}
    with torch.inference_mode():
        for _ in range(args.repeats):
            for size in seconds:
                backend.options.encoder_batch_size = size
                start = time.perf_counter()
                if size is None:
                    backend.model.get_encoder()(**inputs)
                else:
                    backend.encode_in_groups(inputs)
                seconds[size].append(time.perf_counter() - start)
    machine = describe_machine()
    lines = [
        "# hf-seq2seq: the encoder in length-sorted groups", "",
        command("seq2seq_encoder_groups.py", "--groups " + " ".join(map(str, args.groups)), args.out)
        + f", started {started} on {machine.cpu_model} "
        f"({machine.physical_cores} physical cores): the bench's BART (distilbart-cnn-6-6's architecture, random "
        f"weights), {len(texts)} dev articles of {int(lengths.min())}-{int(lengths.max())} tokens, the encoder "
        f"alone, {args.repeats} turns of every setting in one process.", "",
        "| encoder groups | seconds per turn | median s |", "|---|---|---|",
    ]
    for size, times in seconds.items():
        label = f"{size} articles" if size else f"none (all {len(texts)} padded to the longest)"
        lines.append(f"| {label} | {', '.join(f'{t:.1f}' for t in times)} | {sorted(times)[len(times) // 2]:.1f} |")
        print(lines[-1], flush=True)
    save(lines, args.out)


if __name__ == "__main__":
    main()
