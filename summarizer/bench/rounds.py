"""Interleaving and timing shared by the sections.

Every round runs every variant over all of a section's inputs, reversing the variant order every other
round (ABBA): slow phases of a shared machine then fall on all variants alike. Each variant's totals
add up its rounds; ratios are taken between totals of the same run. Rounds repeat the inputs rather
than share them out, so a batch or a set of parallel slots sees as many articles as the section has
(splitting 32 articles over 2 rounds capped every batch at 16), and a deterministic variant must give
the same text in every round.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def interleave(
    variants: Sequence[str], rounds: int, run: Callable[[str], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """``run(variant)`` (one pass over all of the section's inputs) for every round and variant, in ABBA order."""
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for number in range(max(1, rounds)):
        order = list(variants) if number % 2 == 0 else list(reversed(variants))
        for variant in order:
            measurement = run(variant)
            measurement["load_average"] = round(os.getloadavg()[0], 2)
            results[variant].append(measurement)
    return results


def texts_by_round(measurements: list[dict[str, Any]]) -> list[list[str]]:
    """Each round's output texts of one variant, in input order."""
    return [list(m["texts"]) for m in measurements]


def agreeing_items(a: list[list[str]], b: list[list[str]], same: Callable[[str, str], bool]) -> int:
    """Inputs on which two variants agree (``same``) in every round."""
    return sum(all(same(x, y) for x, y in zip(column_a, column_b))
               for column_a, column_b in zip(zip(*a), zip(*b)))


def stable_items(rounds_texts: list[list[str]]) -> int:
    """Inputs for which a variant wrote the same text in every round."""
    return sum(len(set(column)) == 1 for column in zip(*rounds_texts))


def combine(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of one variant over its rounds: summed counts and seconds, the largest peak RSS (and GPU memory)."""
    total: dict[str, Any] = {"rounds": len(measurements)}
    for key in ("items", "generated_tokens", "wall_seconds", "cpu_seconds", "flops", "prompt_tokens",
                "prompt_seconds", "decode_seconds", "draft_tokens", "draft_tokens_accepted", "prompt_phase_seconds",
                "decode_phase_seconds"):
        if any(key in m for m in measurements):
            total[key] = sum(m.get(key, 0) for m in measurements)
    total["peak_rss_mib"] = max(m.get("peak_rss_mib", 0.0) for m in measurements)
    if any("peak_gpu_mib" in m for m in measurements):
        total["peak_gpu_mib"] = max(m.get("peak_gpu_mib", 0.0) for m in measurements)
    total["load_average"] = [m.get("load_average") for m in measurements]
    wall, cpu = total.get("wall_seconds", 0.0), total.get("cpu_seconds", 0.0)
    total["items_per_second"] = total["items"] / wall if wall else 0.0
    total["items_per_cpu_second"] = total["items"] / cpu if cpu else 0.0
    if "generated_tokens" in total and wall:
        total["tokens_per_second"] = total["generated_tokens"] / wall
    if "flops" in total and wall:
        total["gflops_per_second"] = total["flops"] / wall / 1e9
    return total


def speedup(fast: dict[str, Any], slow: dict[str, Any], key: str = "items_per_second") -> float:
    """How many times ``fast``'s rate is ``slow``'s (0 when the slow one measured nothing)."""
    return fast[key] / slow[key] if slow.get(key) else 0.0


def round_speedups(fast: list[dict[str, Any]], slow: list[dict[str, Any]]) -> list[float]:
    """Wall-time speedup of ``fast`` over ``slow`` in each round: how much the ratio moved with the load."""
    return [
        round((f["items"] / f["wall_seconds"]) / (s["items"] / s["wall_seconds"]), 2) if f["wall_seconds"] else 0.0
        for f, s in zip(fast, slow)
    ]


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Wall and process CPU seconds of the block (CPU covers every thread of the process)."""
    times: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield times
    finally:
        times["wall_seconds"] = time.perf_counter() - wall
        times["cpu_seconds"] = time.process_time() - cpu
