"""llama.cpp (xllamacpp) with and without ``cache_prefix``: the bench's llama.cpp worker over the first
16 dev-set articles (SmolLM2 Q8_0, exactly 128 new tokens each), in fresh processes, ABBA order.

    .venv/bin/python eval/scripts/llama_prefix_ab.py 8      # slots
"""

from __future__ import annotations

import sys

from summarizer.bench.child import run_child
from summarizer.bench.data import dev_set_path, load_dev_records

texts = [record.article for record in load_dev_records(dev_set_path())[:16]]
slots = int(sys.argv[1]) if len(sys.argv) > 1 else 1
totals: dict[bool, float] = {True: 0.0, False: 0.0}
for cache in (True, False, False, True):
    result = run_child("summarizer.bench.gguf:llama_cpp_worker",
                       {"new_tokens": 128, "n_parallel": slots, "texts": texts, "cache_prefix": cache,
                        "requantize": "Q8_0"})
    totals[cache] += result["wall_seconds"]
    print(f"slots {slots} cache_prefix {cache}: {result['wall_seconds']:.1f} s prompt_tokens "
          f"{result['prompt_tokens']} prompt_s {result['prompt_seconds']:.1f} decode_s "
          f"{result['decode_seconds']:.1f}", flush=True)
print(totals)
