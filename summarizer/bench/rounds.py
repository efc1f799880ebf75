"""Interleaving and timing shared by the sections.

A section splits its inputs into rounds and runs every variant on each round, reversing the variant
order every other round (ABBA): slow phases of a shared machine then fall on all variants alike.
Each variant's totals add up its rounds; ratios are taken between totals of the same run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def split_rounds(n_items: int, rounds: int) -> list[list[int]]:
    """Indices 0..n_items-1 in ``rounds`` contiguous groups of near-equal size (no empty group)."""
    rounds = max(1, min(rounds, n_items))
    size, extra = divmod(n_items, rounds)
    groups, start = [], 0
    for index in range(rounds):
        end = start + size + (1 if index < extra else 0)
        groups.append(list(range(start, end)))
        start = end
    return groups


def interleave(
    variants: Sequence[str], n_items: int, rounds: int, run: Callable[[str, list[int]], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Run ``run(variant, indices)`` for every round and variant, in ABBA order."""
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for number, indices in enumerate(split_rounds(n_items, rounds)):
        order = list(variants) if number % 2 == 0 else list(reversed(variants))
        for variant in order:
            measurement = run(variant, indices)
            measurement["load_average"] = round(os.getloadavg()[0], 2)
            results[variant].append(measurement)
    return results


def combine(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of one variant over its rounds: summed counts and seconds, the largest peak RSS."""
    total: dict[str, Any] = {"rounds": len(measurements)}
    for key in ("items", "generated_tokens", "wall_seconds", "cpu_seconds", "flops", "prompt_tokens",
                "prompt_seconds", "decode_seconds"):
        if any(key in m for m in measurements):
            total[key] = sum(m.get(key, 0) for m in measurements)
    total["peak_rss_mib"] = max(m.get("peak_rss_mib", 0.0) for m in measurements)
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
