"""Kendall's tau-b and Spearman's rho: by hand, against scipy's numbers, and with missing values."""

import numpy as np
import pytest

from summarizer.evaluation.correlation import average_ranks, kendall_tau_b, spearman_rho


def test_kendall_by_hand():
    # x = 1 2 3 4, y = 1 3 2 4: of the 6 pairs only (2,3) is discordant -> (5 - 1) / 6.
    assert kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_kendall_tau_b_with_ties_by_hand():
    # x = 1 1 2, y = 1 2 3: pair (0,1) is tied in x. Concordant 2, discordant 0; untied in x 2, in y 3.
    # tau-b = 2 / sqrt(2 * 3)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / np.sqrt(6))


def test_spearman_by_hand():
    # ranks x = 1 2 3 4, y = 1 3 2 4: d^2 = 0 + 1 + 1 + 0 = 2 -> 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman_rho([10, 20, 30, 40], [1, 3, 2, 4]) == pytest.approx(0.8)
    np.testing.assert_array_equal(average_ranks(np.array([5.0, 1.0, 5.0, 3.0])), [3.5, 1.0, 3.5, 2.0])


# A fixed table with ties on both sides; golden values computed with scipy 1.17.1:
#   scipy.stats.kendalltau(X, Y)  (variant 'b') and scipy.stats.spearmanr(X, Y)
X = [3.1, 2.0, 2.0, 4.5, 1.2, 3.1, 5.0, 0.7, 2.8, 4.5]
Y = [2.0, 1.0, 3.0, 4.0, 1.0, 2.5, 5.0, 1.5, 2.0, 3.5]
SCIPY_KENDALL = 0.7059312080025176
SCIPY_SPEARMAN = 0.8430809140019383


def test_golden_values_from_scipy():
    assert kendall_tau_b(X, Y) == pytest.approx(SCIPY_KENDALL, abs=1e-12)
    assert spearman_rho(X, Y) == pytest.approx(SCIPY_SPEARMAN, abs=1e-12)


def test_matches_scipy_on_random_rows():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    x = rng.integers(0, 5, size=(20, 12)).astype(float)  # many ties
    y = x + rng.integers(-2, 3, size=x.shape)
    ours_tau, ours_rho = kendall_tau_b(x, y), spearman_rho(x, y)
    for row in range(x.shape[0]):
        assert ours_tau[row] == pytest.approx(stats.kendalltau(x[row], y[row]).statistic, abs=1e-12)
        assert ours_rho[row] == pytest.approx(stats.spearmanr(x[row], y[row]).statistic, abs=1e-12)


def test_missing_values_are_left_out_and_constant_rows_have_no_correlation():
    assert kendall_tau_b([1, 2, np.nan, 4], [1, 3, 2, 4]) == pytest.approx(kendall_tau_b([1, 2, 4], [1, 3, 4]))
    assert spearman_rho([1, 2, np.nan, 4], [1, 3, 2, 4]) == pytest.approx(spearman_rho([1, 2, 4], [1, 3, 4]))
    assert np.isnan(kendall_tau_b([1, 1, 1], [1, 2, 3]))
    assert np.isnan(spearman_rho([2, 2, 2], [1, 2, 3]))
