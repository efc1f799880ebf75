"""Rank correlations for meta-evaluation, vectorized over rows: Kendall's tau-b and Spearman's rho.

Written with numpy alone (scipy is not a dependency). Each function takes two (rows, n) arrays and
correlates row i of one with row i of the other, so thousands of bootstrap resamples are one call.
NaN marks a missing value (a judge that could not be parsed): a pair or item with a NaN on either side
is left out of that row's correlation. A row with fewer than two usable items, or constant on a side,
has no correlation (NaN), as in scipy.
"""

from __future__ import annotations

import numpy as np


def _as_rows(x: np.ndarray | list, y: np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"correlated arrays need equal shapes, got {x.shape} and {y.shape}")
    if x.ndim == 1:
        x, y = x[None, :], y[None, :]
    return x, y


def kendall_tau_b(x: np.ndarray | list, y: np.ndarray | list) -> np.ndarray | float:
    """Kendall's tau-b, (concordant - discordant) / sqrt(pairs untied in x * pairs untied in y).

    Ties count as in Kendall (1945) and scipy.stats.kendalltau's default variant: a pair tied in x adds
    to neither count and leaves the x denominator; likewise for y.
    """
    single = np.ndim(x) == 1
    x, y = _as_rows(x, y)
    n = x.shape[1]
    upper_i, upper_j = np.triu_indices(n, 1)
    dx = x[:, upper_i] - x[:, upper_j]
    dy = y[:, upper_i] - y[:, upper_j]
    usable = ~(np.isnan(dx) | np.isnan(dy))
    sx = np.where(usable, np.sign(np.nan_to_num(dx)), 0.0)
    sy = np.where(usable, np.sign(np.nan_to_num(dy)), 0.0)
    untied_x = np.count_nonzero(sx, axis=1).astype(float)
    untied_y = np.count_nonzero(sy, axis=1).astype(float)
    denominator = np.sqrt(untied_x * untied_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(denominator > 0, (sx * sy).sum(axis=1) / denominator, np.nan)
    return float(tau[0]) if single else tau


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n per row, ties sharing their average rank (scipy's rankdata 'average'); NaN stays NaN."""
    values = np.asarray(values, dtype=float)
    less = (values[..., None, :] < values[..., :, None]).sum(axis=-1)
    equal = (values[..., None, :] == values[..., :, None]).sum(axis=-1)
    ranks = less + (equal + 1) / 2.0
    return np.where(np.isnan(values), np.nan, ranks)


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    denominator = np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (x * y).sum(axis=1) / denominator, np.nan)


def spearman_rho(x: np.ndarray | list, y: np.ndarray | list) -> np.ndarray | float:
    """Spearman's rho: Pearson's r of the average ranks (as scipy.stats.spearmanr)."""
    single = np.ndim(x) == 1
    x, y = _as_rows(x, y)
    missing = np.isnan(x) | np.isnan(y)
    rho = np.full(x.shape[0], np.nan)
    complete = ~missing.any(axis=1)
    if complete.any():
        rho[complete] = _pearson_rows(average_ranks(x[complete]), average_ranks(y[complete]))
    for row in np.flatnonzero(~complete):  # rows with missing values: rank the usable items only
        keep = ~missing[row]
        if keep.sum() >= 2:
            rho[row] = _pearson_rows(average_ranks(x[row, keep][None]), average_ranks(y[row, keep][None]))[0]
    return float(rho[0]) if single else rho


CORRELATIONS = {"kendall": kendall_tau_b, "spearman": spearman_rho}
