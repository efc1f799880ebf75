"""The numpy BERT encoder's network computed by torch, on the very same weight arrays.

Over many articles the default model's time is all in its encoder: on the SummEval dev set, numpy's
single-threaded elementwise passes (GELU, LayerNorm, softmax) and padded rows made it clearly slower
than torch. Importing torch costs more than a short run's whole encoding, which a one-article run should not pay, so
``SentenceEncoder``'s ``auto`` engine starts with numpy and moves here once a run has encoded enough to
repay the import (summarizer.extractive.embeddings).

Tokens are packed for everything but attention: the linear layers, GELU and LayerNorm see only real
tokens (a sorted length batch still pads about a fifth of its rows), and attention runs on the padded
batch with a key mask. Embeddings match transformers' BertModel to float32 precision
(tests/extractive/test_embeddings.py).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from summarizer.extractive.bert_numpy import NumpyBert


class TorchBert:
    """``model(ids, mask)`` returns the last hidden states (batch, tokens, hidden) as float32 numpy, as
    NumpyBert does; ``dtype`` is the arithmetic's (float32, or bfloat16 on CPUs with AMX/AVX512-BF16)."""

    def __init__(self, numpy_bert: NumpyBert, dtype: torch.dtype = torch.float32):
        def tensor(array: np.ndarray) -> torch.Tensor:
            # from_numpy shares memory; .to() copies only for another dtype.
            return torch.from_numpy(array).to(dtype)

        self.heads, self.eps = numpy_bert.heads, numpy_bert.eps
        self.word, self.position, self.token_type = (
            tensor(array) for array in (numpy_bert.word, numpy_bert.position, numpy_bert.token_type))
        self.embedding_norm = tuple(tensor(array) for array in numpy_bert.embedding_norm)
        self.layers = [{name: tuple(tensor(array) for array in arrays) for name, arrays in layer.items()}
                       for layer in numpy_bert.layers]

    def _norm(self, x: torch.Tensor, weight_bias: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), *weight_bias, eps=self.eps)

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        with torch.inference_mode():
            real = torch.from_numpy(mask > 0)
            positions = torch.arange(length).expand(batch, length)
            hidden = self.word[torch.from_numpy(ids)[real]] + self.position[positions[real]] + self.token_type
            hidden = self._norm(hidden, self.embedding_norm)
            keys = real[:, None, None, :]
            for layer in self.layers:
                hidden = self._block(hidden, real, keys, layer)
            out = hidden.new_zeros(batch, length, hidden.shape[-1])
            out[real] = hidden
            return out.float().numpy()

    def _block(self, hidden: torch.Tensor, real: torch.Tensor, keys: torch.Tensor,
               layer: dict[str, tuple[torch.Tensor, ...]]) -> torch.Tensor:
        batch, length = real.shape
        width = hidden.shape[-1]
        weight, bias = layer["qkv"]
        padded = hidden.new_zeros(batch, length, 3 * width)
        padded[real] = torch.addmm(bias, hidden, weight)
        query, key, value = padded.view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        context = F.scaled_dot_product_attention(query, key, value, attn_mask=keys)
        context = context.transpose(1, 2).reshape(batch, length, width)[real]
        weight, bias = layer["attention_out"]
        attended = self._norm(torch.addmm(bias, context, weight) + hidden, layer["attention_norm"])
        (inner_weight, inner_bias), (out_weight, out_bias) = layer["intermediate"], layer["output"]
        inner = F.gelu(torch.addmm(inner_bias, attended, inner_weight))
        return self._norm(torch.addmm(out_bias, inner, out_weight) + attended, layer["output_norm"])
