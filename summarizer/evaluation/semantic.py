"""Meaning-level similarity between generated and reference bullets, with sentence embeddings.

ROUGE rewards shared words; a faithful paraphrase ("troops will be sent" / "will deploy soldiers")
scores low. These scores use all-MiniLM-L6-v2 sentence embeddings (packaged, works offline):

- ``semantic_sim``: cosine between the embeddings of the two summaries, each side's bullets joined;
- ``semantic_match_*``: a BERTScore-style greedy matching over bullets instead of tokens (Zhang et
  al. 2020): precision = mean over generated bullets of the best cosine to any reference bullet,
  recall = the same from the reference side, F = their harmonic mean.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

# The extractive summarizer's encoder is exactly what is needed here (packaged MiniLM, mean
# pooling, unit-norm vectors, batched under torch.inference_mode, loaded once per instance);
# reuse it so the two never drift apart.
from summarizer.extractive.embeddings import SentenceEncoder as MiniLMEncoder

__all__ = ["MiniLMEncoder", "TextEncoder", "cosine_matrix", "semantic_similarity"]


class TextEncoder(Protocol):
    def encode(self, sentences: list[str]) -> np.ndarray: ...


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def cosine_matrix(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Pairwise cosines between the rows of two matrices (normalizes again: any encoder will do)."""
    return _unit_rows(left) @ _unit_rows(right).T


def semantic_similarity(
    generated_bullets: list[str], reference_bullets: list[str], encoder: TextEncoder
) -> dict[str, float]:
    """Summary-level cosine and bullet-level greedy matching scores; all 0 when a side is empty."""
    if not generated_bullets or not reference_bullets:
        return {"semantic_sim": 0.0, "semantic_match_precision": 0.0, "semantic_match_recall": 0.0,
                "semantic_match_f": 0.0}
    n_generated = len(generated_bullets)
    # One encode call for everything: batching is the expensive part's only speed-up.
    vectors = encoder.encode(
        [" ".join(generated_bullets), " ".join(reference_bullets), *generated_bullets, *reference_bullets]
    )
    summary_cosine = float(cosine_matrix(vectors[0:1], vectors[1:2])[0, 0])
    bullet_cosines = cosine_matrix(vectors[2 : 2 + n_generated], vectors[2 + n_generated :])
    precision = float(bullet_cosines.max(axis=1).mean())
    recall = float(bullet_cosines.max(axis=0).mean())
    # Cosines can be negative; an F of two non-positive numbers means nothing, so it is 0 there.
    f_score = 2 * precision * recall / (precision + recall) if precision > 0 and recall > 0 else 0.0
    return {"semantic_sim": summary_cosine, "semantic_match_precision": precision,
            "semantic_match_recall": recall, "semantic_match_f": f_score}
