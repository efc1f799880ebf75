"""llama.cpp one slot against 8 parallel slots only (the bench's GGUF section without transformers and
ik_llama.cpp), over more ABBA rounds than `summarizer bench` runs, to see how much the ratio moves.

    .venv/bin/python eval/scripts/llama_slots_rounds.py
"""

from __future__ import annotations

from summarizer.bench.data import dev_set_path, load_dev_records
from summarizer.bench.gguf import run_gguf
from summarizer.bench.suite import default_work_dir

result = run_gguf(load_dev_records(dev_set_path()), default_work_dir(), n_articles=16, new_tokens=128, slots=8,
                  rounds=4, variants=("llama.cpp", "llama.cpp-parallel"))
for variant, total in result["variants"].items():
    print(variant, round(total["wall_seconds"], 1), round(total["items_per_second"], 3))
print("parallel/sequential", round(result["parallel_vs_sequential"], 3), result["parallel_vs_sequential_rounds"])
print("split", {key: round(value, 3) for key, value in result["sequential_split"].items()})
