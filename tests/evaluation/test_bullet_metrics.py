import itertools

import numpy as np
import pytest

from summarizer.articles import parse_seed_text
from summarizer.evaluation.bullet_metrics import (
    ROUGE_MATCH_THRESHOLD,
    bullet_metrics,
    max_weight_assignment,
)
from summarizer.evaluation.rouge import RougeScorer, Score


class TableScorer:
    """A scorer whose ROUGE-1 F for each (target, prediction) pair is given by a table (0 elsewhere)."""

    def __init__(self, table: dict[tuple[str, str], float]):
        self.table = table

    def score(self, target: str, prediction: str) -> dict[str, Score]:
        if target == prediction:
            value = 1.0
        else:
            value = self.table.get((target, prediction), self.table.get((prediction, target), 0.0))
        return {"rouge1": Score(value, value, value)}


class TableEncoder:
    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = vectors

    def encode(self, sentences: list[str]) -> np.ndarray:
        vectors = np.array([self.vectors[sentence] for sentence in sentences], dtype=float)
        return vectors.reshape(len(sentences), -1)


def _total(weights, pairs) -> float:
    return sum(weights[row][col] for row, col in pairs)


def _brute_force_best(weights: np.ndarray) -> float:
    rows, cols = weights.shape
    if rows <= cols:
        return max(sum(weights[r, c] for r, c in zip(range(rows), perm, strict=True))
                   for perm in itertools.permutations(range(cols), rows))
    return _brute_force_best(weights.T)


# --- assignment -----------------------------------------------------------------------------------


def test_assignment_beats_greedy_on_a_hand_checkable_matrix():
    # Greedy takes the 0.9 first and is left with 0.1 (total 1.0); the optimum is 0.8 + 0.85 = 1.65.
    weights = [[0.9, 0.8], [0.85, 0.1]]
    assert max_weight_assignment(weights) == [(0, 1), (1, 0)]


def test_assignment_of_rectangular_matrices_uses_each_index_once():
    wide = [[0.1, 0.7, 0.2], [0.6, 0.65, 0.0]]
    assert max_weight_assignment(wide) == [(0, 1), (1, 0)]
    tall = np.array(wide).T
    assert max_weight_assignment(tall) == [(0, 1), (1, 0)]


def test_assignment_of_an_empty_matrix_is_empty():
    assert max_weight_assignment(np.zeros((0, 3))) == []
    assert max_weight_assignment(np.zeros((2, 0))) == []


def test_assignment_is_optimal_on_random_matrices():
    rng = np.random.default_rng(7)
    for _ in range(200):
        rows, cols = rng.integers(1, 6, size=2)
        # Rounded to one decimal so ties, the case that breaks naive implementations, are common.
        weights = rng.random((rows, cols)).round(1)
        pairs = max_weight_assignment(weights)
        assert len(pairs) == min(rows, cols)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
        assert _total(weights, pairs) == pytest.approx(_brute_force_best(weights))


def test_assignment_matches_scipy_on_larger_matrices():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(11)
    for _ in range(50):
        rows, cols = rng.integers(1, 15, size=2)
        weights = rng.random((rows, cols))
        row_index, col_index = optimize.linear_sum_assignment(weights, maximize=True)
        best = weights[row_index, col_index].sum()
        assert _total(weights, max_weight_assignment(weights)) == pytest.approx(best)


# --- metrics with a table scorer ---------------------------------------------------------------------


def test_bullet_metrics_by_hand():
    # r0 is best matched by g1 (0.8) once g0 serves r1 (0.7); r2 gets nothing above the threshold.
    scorer = TableScorer({
        ("r0", "g0"): 0.9, ("r0", "g1"): 0.8, ("r1", "g0"): 0.7, ("r1", "g1"): 0.1,
        ("r2", "g0"): 0.2, ("r2", "g1"): 0.0, ("r2", "g2"): 0.25, ("g0", "g1"): 0.4, ("g0", "g2"): 0.1,
    })
    metrics = bullet_metrics(["g0", "g1", "g2"], ["r0", "r1", "r2"], scorer=scorer, threshold=0.5)
    assert metrics["bullet_alignment"] == [(0, 1, 0.8), (1, 0, 0.7), (2, 2, 0.25)]
    assert metrics["bullet_matched"] == 2
    assert metrics["bullet_recall"] == pytest.approx(2 / 3)
    assert metrics["bullet_precision"] == pytest.approx(2 / 3)
    assert metrics["bullet_f"] == pytest.approx(2 / 3)
    assert metrics["bullet_soft_recall"] == pytest.approx((0.8 + 0.7 + 0.25) / 3)
    assert metrics["redundancy_mean"] == pytest.approx((0.4 + 0.1 + 0.0) / 3)
    assert metrics["redundancy_max"] == pytest.approx(0.4)
    assert metrics["bullet_count_diff"] == 0


def test_counts_and_precision_when_the_model_writes_more_bullets():
    scorer = TableScorer({("r0", "g0"): 0.9})
    metrics = bullet_metrics(["g0", "g1", "g2", "g3"], ["r0", "r1"], scorer=scorer, threshold=0.5)
    assert (metrics["n_generated"], metrics["n_reference"]) == (4, 2)
    assert metrics["bullet_count_diff"] == 2
    assert metrics["bullet_count_abs_diff"] == 2
    assert metrics["bullet_recall"] == pytest.approx(1 / 2)
    assert metrics["bullet_precision"] == pytest.approx(1 / 4)
    assert metrics["bullet_f"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)


def test_the_threshold_is_inclusive():
    scorer = TableScorer({("r0", "g0"): 0.5})
    assert bullet_metrics(["g0"], ["r0"], scorer=scorer, threshold=0.5)["bullet_matched"] == 1


def test_empty_sides_score_zero():
    metrics = bullet_metrics([], ["r0", "r1"], scorer=TableScorer({}))
    assert metrics["bullet_recall"] == metrics["bullet_precision"] == metrics["bullet_f"] == 0.0
    assert metrics["bullet_alignment"] == []
    assert metrics["bullet_count_diff"] == -2
    metrics = bullet_metrics(["g0"], [], scorer=TableScorer({}))
    assert metrics["bullet_recall"] == metrics["bullet_precision"] == 0.0
    assert metrics["redundancy_max"] == 0.0


def test_every_metric_key_except_the_alignment_is_a_flat_number():
    metrics = bullet_metrics(["g0", "g1"], ["r0"], scorer=TableScorer({("r0", "g0"): 0.9}))
    non_numeric = {key for key, value in metrics.items() if not isinstance(value, int | float)}
    assert non_numeric == {"bullet_alignment", "bullet_alignment_config"}
    assert metrics["bullet_alignment_config"]["threshold"] == ROUGE_MATCH_THRESHOLD


# --- metrics with real ROUGE-1 --------------------------------------------------------------------


def test_real_rouge1_by_hand():
    # "the cat sat" vs "the cat sat down": P = 3/4, R = 1, F = 6/7. "a dog barked" shares no word.
    metrics = bullet_metrics(["the cat sat down", "a dog barked"], ["the cat sat"])
    assert metrics["bullet_alignment"] == [(0, 0, pytest.approx(6 / 7))]
    assert metrics["bullet_recall"] == 1.0
    assert metrics["bullet_precision"] == 0.5
    assert metrics["redundancy_max"] == 0.0
    assert metrics["bullet_alignment_config"]["similarity"] == "rouge1_f"


def test_repeated_bullets_show_as_redundancy_and_cannot_match_twice():
    generated = ["Police arrested the gunman on Monday.", "Police arrested the gunman on Monday."]
    reference = ["Police arrested the gunman on Monday.", "The victims were taken to hospital."]
    metrics = bullet_metrics(generated, reference)
    assert metrics["redundancy_max"] == 1.0
    assert metrics["bullet_matched"] == 1
    assert metrics["bullet_recall"] == 0.5


def test_a_single_bullet_has_no_redundancy():
    metrics = bullet_metrics(["Police arrested the gunman."], ["Police arrested the gunman."])
    assert metrics["redundancy_mean"] == metrics["redundancy_max"] == 0.0


def test_the_harness_scorer_with_all_rouge_types_can_be_injected():
    scorer = RougeScorer(rouge_types=("rouge1", "rouge2", "rougeL", "rougeLsum"))
    metrics = bullet_metrics(["the cat sat down"], ["the cat sat"], scorer=scorer)
    assert metrics["bullet_soft_recall"] == pytest.approx(6 / 7)


def test_seed_human_bullets_against_themselves_match_one_to_one(seed_file):
    bullets = parse_seed_text(seed_file.read_text(encoding="utf-8"), "seed").reference_bullets
    assert len(bullets) == 5
    metrics = bullet_metrics(bullets, bullets)
    assert metrics["bullet_recall"] == metrics["bullet_precision"] == metrics["bullet_f"] == 1.0
    assert [(ref, gen) for ref, gen, _ in metrics["bullet_alignment"]] == [(i, i) for i in range(5)]
    # Distinct points about one story still share names: redundant, but well below a copy.
    assert 0.0 < metrics["redundancy_mean"] < metrics["redundancy_max"] < 1.0


# --- embedding similarity -------------------------------------------------------------------------


def test_embedding_similarity_with_hand_made_vectors():
    encoder = TableEncoder({"r0": [1, 0], "r1": [0, 1], "g0": [1, 1], "g1": [0, 1]})
    metrics = bullet_metrics(["g0", "g1"], ["r0", "r1"], "embedding", threshold=0.6, encoder=encoder)
    # cos(r0, g0) = 0.707, cos(r1, g1) = 1: the optimum (1.707) beats r1-g0 + r0-g1 (0.707 + 0).
    assert metrics["bullet_alignment"] == [(0, 0, pytest.approx(2 ** -0.5)), (1, 1, pytest.approx(1.0))]
    assert metrics["bullet_recall"] == 1.0
    assert metrics["redundancy_max"] == pytest.approx(2 ** -0.5)
    assert metrics["bullet_alignment_config"]["similarity"] == "cosine"


def test_embedding_similarity_needs_an_encoder():
    with pytest.raises(ValueError, match="encoder"):
        bullet_metrics(["a"], ["b"], similarity="embedding")


def test_unknown_similarity_is_rejected():
    with pytest.raises(ValueError, match="similarity"):
        bullet_metrics(["a"], ["b"], similarity="jaccard")
