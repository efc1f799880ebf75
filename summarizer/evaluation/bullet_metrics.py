"""Bullet-level metrics: does each reference point have its own generated bullet, and do bullets repeat?

Summary-level ROUGE cannot tell five distinct points from one point said five times. Here reference
bullets are aligned one-to-one to generated bullets so as to maximize the total similarity (the
assignment problem, solved exactly by the Hungarian method); an aligned pair whose similarity
reaches a threshold counts as a covered point. Similarity is ROUGE-1 F (stemmed unigram overlap:
word order carries little in one sentence, and ROUGE-1 is the metric the leaderboards already
quote) or the cosine of sentence embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from summarizer.evaluation.rouge import RougeScorer, Score

SIMILARITIES = ("rouge", "embedding")
ALIGNMENT_ROUGE_TYPE = "rouge1"
# Thresholds come from the 100 SummEval CNN/DM highlights plus the seed. Pairs that should not match:
# distinct bullets of one reference (474 pairs; same story and names, different points). Pairs that
# should: each bullet with its most similar article sentence, its likely source (351 pairs).
# ROUGE-1 F >= 0.30 rejects 95% of the former and keeps 78% of the latter; MiniLM cosine >= 0.55
# rejects 94% and keeps 80%. Higher thresholds lose true matches faster than they gain precision.
ROUGE_MATCH_THRESHOLD = 0.30
EMBEDDING_MATCH_THRESHOLD = 0.55
DEFAULT_THRESHOLDS = {"rouge": ROUGE_MATCH_THRESHOLD, "embedding": EMBEDDING_MATCH_THRESHOLD}


class PairScorer(Protocol):
    def score(self, target: str, prediction: str) -> dict[str, Score]: ...


class TextEncoder(Protocol):
    def encode(self, sentences: list[str]) -> np.ndarray: ...


def max_weight_assignment(weights: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs, each row and column used at most once, min(rows, columns) pairs in all,
    with the largest total weight.

    The Hungarian method with potentials (Kuhn 1955; Munkres 1957), O(n^2 m): exact, and fast for the
    handful of bullets a summary has. Kept here rather than taken from scipy, which the project
    does not depend on.
    """
    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.size == 0:
        return []
    transposed = matrix.shape[0] > matrix.shape[1]
    if transposed:
        matrix = matrix.T
    cost = matrix.max() - matrix  # minimize cost == maximize weight; shifted to be non-negative
    n_rows, n_cols = cost.shape
    # 1-based arrays; column 0 is a virtual column that holds the row being inserted.
    row_potential = [0.0] * (n_rows + 1)
    col_potential = [0.0] * (n_cols + 1)
    row_of_col = [0] * (n_cols + 1)
    previous_col = [0] * (n_cols + 1)
    for row in range(1, n_rows + 1):
        row_of_col[0] = row
        col = 0
        slack = [math.inf] * (n_cols + 1)
        visited = [False] * (n_cols + 1)
        while True:  # grow an alternating tree until it reaches a free column
            visited[col] = True
            current_row = row_of_col[col]
            delta = math.inf
            next_col = 0
            for candidate in range(1, n_cols + 1):
                if visited[candidate]:
                    continue
                reduced = (cost[current_row - 1, candidate - 1]
                           - row_potential[current_row] - col_potential[candidate])
                if reduced < slack[candidate]:
                    slack[candidate] = reduced
                    previous_col[candidate] = col
                if slack[candidate] < delta:
                    delta = slack[candidate]
                    next_col = candidate
            for candidate in range(n_cols + 1):
                if visited[candidate]:
                    row_potential[row_of_col[candidate]] += delta
                    col_potential[candidate] -= delta
                else:
                    slack[candidate] -= delta
            col = next_col
            if row_of_col[col] == 0:
                break
        while col:  # flip the augmenting path
            parent = previous_col[col]
            row_of_col[col] = row_of_col[parent]
            col = parent
    pairs = [(row_of_col[col] - 1, col - 1) for col in range(1, n_cols + 1) if row_of_col[col]]
    if transposed:
        pairs = [(row, col) for col, row in pairs]
    return sorted(pairs)


def rouge_similarity_matrix(targets: list[str], predictions: list[str], scorer: PairScorer) -> np.ndarray:
    matrix = np.zeros((len(targets), len(predictions)))
    for i, target in enumerate(targets):
        for j, prediction in enumerate(predictions):
            matrix[i, j] = scorer.score(target, prediction)[ALIGNMENT_ROUGE_TYPE].fmeasure
    return matrix


def _similarity_matrices(
    generated: list[str], reference: list[str], similarity: str, scorer: PairScorer | None,
    encoder: TextEncoder | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(reference x generated, generated x generated) similarity matrices."""
    if similarity == "rouge":
        scorer = scorer or RougeScorer(rouge_types=(ALIGNMENT_ROUGE_TYPE,), use_stemmer=True)
        return (rouge_similarity_matrix(reference, generated, scorer),
                rouge_similarity_matrix(generated, generated, scorer))
    if encoder is None:
        raise ValueError("similarity='embedding' needs an encoder, e.g. semantic.MiniLMEncoder()")
    from summarizer.evaluation.semantic import cosine_matrix

    vectors = encoder.encode([*reference, *generated]) if reference or generated else np.zeros((0, 1))
    reference_vectors, generated_vectors = vectors[: len(reference)], vectors[len(reference) :]
    return (cosine_matrix(reference_vectors, generated_vectors),
            cosine_matrix(generated_vectors, generated_vectors))


def _ratio(numerator: float, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def bullet_metrics(
    generated: list[str],
    reference: list[str],
    similarity: str = "rouge",
    threshold: float | None = None,
    scorer: PairScorer | None = None,
    encoder: TextEncoder | None = None,
) -> dict[str, Any]:
    """Count, one-to-one coverage and redundancy of generated bullets against reference bullets.

    Numeric keys are flat, one number per article; ``bullet_alignment`` lists the aligned pairs as
    (reference index, generated index, similarity) and ``bullet_alignment_config`` says how they
    were made. `scorer` must produce "rouge1" (any RougeScorer with it will do); `encoder` is
    required for similarity="embedding". Redundancy uses the same similarity, so a redundancy above
    the threshold means two generated bullets are as alike as a matched pair.
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, not {similarity!r}")
    threshold = DEFAULT_THRESHOLDS[similarity] if threshold is None else threshold
    n_generated, n_reference = len(generated), len(reference)
    reference_by_generated, generated_by_generated = _similarity_matrices(
        generated, reference, similarity, scorer, encoder
    )
    alignment = [
        (ref_index, gen_index, float(reference_by_generated[ref_index, gen_index]))
        for ref_index, gen_index in max_weight_assignment(reference_by_generated)
    ]
    matched = sum(1 for _, _, value in alignment if value >= threshold)
    recall, precision = _ratio(matched, n_reference), _ratio(matched, n_generated)
    aligned_total = sum(value for _, _, value in alignment)
    pairwise = [
        float(generated_by_generated[i, j]) for i in range(n_generated) for j in range(i + 1, n_generated)
    ]
    return {
        "n_generated": n_generated,
        "n_reference": n_reference,
        "bullet_count_diff": n_generated - n_reference,
        "bullet_count_abs_diff": abs(n_generated - n_reference),
        "bullet_matched": matched,
        "bullet_recall": recall,
        "bullet_precision": precision,
        "bullet_f": 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0,
        # Threshold-free versions: aligned similarity per reference / generated bullet.
        "bullet_soft_recall": _ratio(aligned_total, n_reference),
        "bullet_soft_precision": _ratio(aligned_total, n_generated),
        "redundancy_mean": sum(pairwise) / len(pairwise) if pairwise else 0.0,
        "redundancy_max": max(pairwise, default=0.0),
        "bullet_alignment": alignment,
        "bullet_alignment_config": {
            "similarity": f"{ALIGNMENT_ROUGE_TYPE}_f" if similarity == "rouge" else "cosine",
            "threshold": threshold,
            "assignment": "one-to-one, maximum total similarity (Hungarian)",
        },
    }
