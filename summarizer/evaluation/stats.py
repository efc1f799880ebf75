"""Seeded resampling statistics over per-article scores.

Every function draws from its own `numpy.random.default_rng(seed)` (never the global RNG), reports the
plain mean as the point estimate, and returns the seed and the number of resamples with the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Resampling is done in blocks of at most this many drawn indices (8 bytes each), so 10,000 resamples of
# 10,000 articles do not need gigabytes at once.
_BLOCK_ELEMENTS = 1 << 21

# Resampled statistics equal to the observed one in exact arithmetic (all signs kept, or flipped) can
# differ from it in the last bits after a different summation order; a relative slack of 1e-9 counts
# them as ties, as they should be, and is far below any difference between real score means.
_TIE_RELATIVE_TOLERANCE = 1e-9


def _as_scores(values: Sequence[float] | np.ndarray, name: str = "values") -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _paired(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = _as_scores(a, "a"), _as_scores(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"paired samples need equal lengths, got {first.size} and {second.size}")
    return first, second


def _resampled_means(values: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `n_resamples` bootstrap samples (drawn with replacement, same size as `values`)."""
    n = values.size
    means = np.empty(n_resamples)
    block = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n_resamples, block):
        stop = min(start + block, n_resamples)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[indices].mean(axis=1)
    return means


def _interval(resampled: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return float(low), float(high)


def _check(n_resamples: int, confidence: float | None = None) -> None:
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    if confidence is not None and not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")


def _monte_carlo_p(resampled: np.ndarray, observed: float) -> float:
    # (hits + 1) / (resamples + 1): the observed arrangement counts as one of the resamples, so the
    # p-value is never 0 (Davison & Hinkley 1997, eq. 4.11).
    threshold = abs(observed) * (1.0 - _TIE_RELATIVE_TOLERANCE)
    extreme = int(np.count_nonzero(np.abs(resampled) >= threshold))
    return (extreme + 1) / (resampled.size + 1)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, Any]:
    """Percentile bootstrap interval for the mean; the point estimate is the plain mean of `values`."""
    _check(n_resamples, confidence)
    scores = _as_scores(values)
    rng = np.random.default_rng(seed)
    means = _resampled_means(scores, n_resamples, rng)
    low, high = _interval(means, confidence)
    return {
        "mean": float(scores.mean()),
        "low": low,
        "high": high,
        "std_error": float(means.std(ddof=1)) if n_resamples > 1 else 0.0,
        "n": int(scores.size),
        "confidence": confidence,
        "n_resamples": n_resamples,
        "seed": seed,
        "method": "percentile bootstrap of the mean",
        "rng": "numpy.random.default_rng",
    }


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap of mean(a - b) over the same articles: the difference, its interval and a
    two-sided p-value for "no difference" (resampled differences shifted to mean 0, Efron & Tibshirani
    1993, 16.4)."""
    _check(n_resamples, confidence)
    first, second = _paired(a, b)
    differences = first - second
    observed = float(differences.mean())
    rng = np.random.default_rng(seed)
    means = _resampled_means(differences, n_resamples, rng)
    low, high = _interval(means, confidence)
    return {
        "mean_diff": observed,
        "low": low,
        "high": high,
        "p_value": _monte_carlo_p(means - observed, observed),
        "mean_a": float(first.mean()),
        "mean_b": float(second.mean()),
        "n": int(differences.size),
        "confidence": confidence,
        "n_resamples": n_resamples,
        "seed": seed,
        "method": "paired percentile bootstrap; p from the null-shifted bootstrap distribution",
        "rng": "numpy.random.default_rng",
    }


def paired_permutation_test(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, n_resamples: int = 10000, seed: int = 0
) -> dict[str, Any]:
    """Two-sided paired permutation test of mean(a - b) == 0 by random sign flips of the differences
    (under the null each article's two scores are exchangeable)."""
    _check(n_resamples)
    first, second = _paired(a, b)
    differences = first - second
    observed = float(differences.mean())
    rng = np.random.default_rng(seed)
    n = differences.size
    flipped_means = np.empty(n_resamples)
    block = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, n_resamples, block):
        stop = min(start + block, n_resamples)
        signs = rng.integers(0, 2, size=(stop - start, n), dtype=np.int8) * 2 - 1
        flipped_means[start:stop] = (signs @ differences) / n
    return {
        "mean_diff": observed,
        "p_value": _monte_carlo_p(flipped_means, observed),
        "mean_a": float(first.mean()),
        "mean_b": float(second.mean()),
        "n": int(n),
        "n_resamples": n_resamples,
        "seed": seed,
        "method": "paired sign-flip permutation test (Monte Carlo), two-sided",
        "rng": "numpy.random.default_rng",
    }
