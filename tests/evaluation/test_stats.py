"""Seeded resampling statistics: hand-checkable cases, then seeded statistical behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from summarizer.evaluation.stats import bootstrap_ci, paired_bootstrap, paired_permutation_test

# With 1000 resamples the 2.5% and 97.5% quantiles of the bootstrap distribution each carry a Monte
# Carlo error of roughly 5% of the interval's half-width, and the bootstrap itself runs slightly
# narrower than the normal formula on 200 articles; 15% leaves room for both without hiding a wrong
# interval (a CI computed from the sum instead of the mean, or from the wrong tail, is off by far more).
HALF_WIDTH_TOLERANCE = 0.15


def scores(seed: int, n: int = 200, mean: float = 0.4, sd: float = 0.1) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(mean, sd, n), 0.0, 1.0)


# --- tier 1: by hand -------------------------------------------------------------------------------


def test_constant_scores_give_a_zero_width_interval():
    result = bootstrap_ci([0.25] * 7, n_resamples=50)
    assert (result["mean"], result["low"], result["high"]) == (0.25, 0.25, 0.25)


def test_point_estimate_is_the_plain_mean_and_settings_are_recorded():
    result = bootstrap_ci([0.0, 0.5, 1.0, 0.5], n_resamples=200, confidence=0.9, seed=3)
    assert result["mean"] == 0.5
    assert result["low"] <= 0.5 <= result["high"]
    assert (result["n"], result["n_resamples"], result["seed"], result["confidence"]) == (4, 200, 3, 0.9)


def test_identical_systems_have_no_difference():
    a = [0.1, 0.4, 0.35, 0.8]
    boot = paired_bootstrap(a, a, n_resamples=200)
    perm = paired_permutation_test(a, a, n_resamples=500)
    assert (boot["mean_diff"], boot["low"], boot["high"], boot["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    assert (perm["mean_diff"], perm["p_value"]) == (0.0, 1.0)
    assert (perm["n_resamples"], perm["seed"]) == (500, 0)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([0.1, float("nan")])
    with pytest.raises(ValueError):
        paired_bootstrap([0.1, 0.2], [0.1])
    with pytest.raises(ValueError):
        bootstrap_ci([0.1, 0.2], confidence=1.5)


def test_does_not_touch_the_global_rng():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    bootstrap_ci(scores(0), n_resamples=100)
    paired_permutation_test(scores(0), scores(1), n_resamples=100)
    assert np.random.random() == expected


# --- tier 3: seeded statistical behaviour --------------------------------------------------------


def test_same_seed_same_interval_other_seed_other_interval():
    values = scores(0)
    first, again = bootstrap_ci(values, seed=11), bootstrap_ci(values, seed=11)
    other = bootstrap_ci(values, seed=12)
    assert (first["low"], first["high"]) == (again["low"], again["high"])
    assert (first["low"], first["high"]) != (other["low"], other["high"])
    assert first["mean"] == other["mean"]  # the point estimate does not depend on resampling


def test_interval_width_agrees_with_the_normal_approximation():
    values = scores(1)
    result = bootstrap_ci(values, n_resamples=1000, confidence=0.95, seed=0)
    expected_half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    half_width = (result["high"] - result["low"]) / 2
    assert half_width == pytest.approx(expected_half_width, rel=HALF_WIDTH_TOLERANCE)
    assert result["low"] < result["mean"] < result["high"]


def test_clearly_different_systems_are_significant():
    # System b is a, 5 points lower per article plus noise: a difference any test should find.
    a = scores(2)
    b = a - 0.05 + np.random.default_rng(3).normal(0, 0.02, a.size)
    boot = paired_bootstrap(a, b, n_resamples=1000, seed=0)
    perm = paired_permutation_test(a, b, n_resamples=2000, seed=0)
    assert boot["low"] > 0 and boot["mean_diff"] == pytest.approx(float(np.mean(a - b)))
    # No resample is as extreme as the observed difference, so p is the smallest possible, 1/(R+1).
    assert perm["p_value"] == 1 / 2001
    assert boot["p_value"] == 1 / 1001


def test_noise_only_differences_are_not_significant():
    # Two systems whose per-article differences are pure noise around 0.
    a = scores(4)
    b = a + np.random.default_rng(5).normal(0, 0.05, a.size)
    b = b - (b - a).mean()  # make the observed mean difference exactly (up to rounding) zero
    perm = paired_permutation_test(a, b, n_resamples=2000, seed=1)
    boot = paired_bootstrap(a, b, n_resamples=1000, seed=1)
    assert perm["p_value"] > 0.9
    assert boot["low"] < 0 < boot["high"]


def test_permutation_test_is_reproducible_and_seed_dependent():
    a, b = scores(6), scores(7)
    first = paired_permutation_test(a, b, n_resamples=3000, seed=5)
    assert first == paired_permutation_test(a, b, n_resamples=3000, seed=5)
    assert first["p_value"] != paired_permutation_test(a, b, n_resamples=3000, seed=6)["p_value"]
