"""A BERT encoder forward pass in numpy, for sentence embeddings without importing torch.

The default model's cold start was dominated by importing torch and transformers before
all-MiniLM-L6-v2 computed anything. This module runs the same network (post-LayerNorm BERT with
absolute positions and exact GELU) on the weights in ``model.safetensors`` with numpy's BLAS, and
tokenizes with the model's own ``tokenizer.json`` through the ``tokenizers`` library, which is what
transformers' fast tokenizer runs. Embeddings match the torch path to about 1e-6 (float32 sums in a
different order), which tests/extractive/test_embeddings.py checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32's resolution of GELU's output.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
# Added to the attention scores of padding keys: exp() of it is exactly 0 in float32.
_MASKED = np.float32(-1e9)
# Rows of the feed-forward block computed together: 128 x 1536 float32 activations = 768 KiB.
FFN_ROWS = 128


def gelu_(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), computed in place (numpy has no erf; scipy would be one more import).

    With erf(|z|) = 1 - q(|z|) (A&S 7.1.26), GELU(x) = max(x, 0) - |x| * q(|x| / sqrt 2) / 2 for either sign.
    """
    a1, a2, a3, a4, a5 = _ERF_A
    z = np.abs(x)
    z *= np.float32(0.7071067811865476)
    t = z * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * a5
    for coefficient in (a4, a3, a2, a1):
        poly += coefficient
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    poly *= np.float32(0.5)
    np.abs(x, out=z)
    poly *= z
    np.maximum(x, 0.0, out=x)
    x -= poly
    return x


def gelu(x: np.ndarray) -> np.ndarray:
    return gelu_(x.copy())


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + np.float32(eps)) * weight + bias


def supports(config: dict[str, Any]) -> bool:
    """Whether ``config.json`` describes a network this module computes exactly."""
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
    )


class NumpyBert:
    """``model(ids, mask)`` returns the last hidden states, shape (batch, tokens, hidden)."""

    def __init__(self, model_dir: str | Path):
        from safetensors.numpy import load_file

        directory = Path(model_dir)
        self.config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if not supports(self.config):
            raise ValueError(f"{directory}: not a BERT model with absolute positions and GELU")
        weights = load_file(str(directory / "model.safetensors"))
        # Checkpoints saved from BertForX carry a "bert." prefix.
        weights = {name.removeprefix("bert."): array.astype(np.float32, copy=False) for name, array in weights.items()}
        self.heads = int(self.config["num_attention_heads"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        depth = int(self.config["num_hidden_layers"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(depth)]

    @staticmethod
    def _layer(weights: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored (out, in); x @ W.T wants (in, out), made contiguous once for BLAS.
            return np.ascontiguousarray(weights[prefix + name + ".weight"].T), weights[prefix + name + ".bias"]

        query, key, value = linear("attention.self.query"), linear("attention.self.key"), linear("attention.self.value")
        return {
            # One GEMM for query, key and value.
            "qkv": (np.concatenate([query[0], key[0], value[0]], axis=1), np.concatenate([query[1], key[1], value[1]])),
            "attention_out": linear("attention.output.dense"),
            "attention_norm": (weights[prefix + "attention.output.LayerNorm.weight"],
                               weights[prefix + "attention.output.LayerNorm.bias"]),
            "intermediate": linear("intermediate.dense"),
            "output": linear("output.dense"),
            "output_norm": (weights[prefix + "output.LayerNorm.weight"], weights[prefix + "output.LayerNorm.bias"]),
        }

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        hidden = self.word[ids] + self.position[:length] + self.token_type
        hidden = layer_norm(hidden, *self.embedding_norm, self.eps)
        key_bias = np.where(mask[:, None, None, :] > 0, np.float32(0.0), _MASKED)
        for layer in self.layers:
            hidden = self._block(hidden, key_bias, layer)
        return hidden

    def _block(self, hidden: np.ndarray, key_bias: np.ndarray, layer: dict[str, Any]) -> np.ndarray:
        batch, length, width = hidden.shape
        heads, head_width = self.heads, width // self.heads
        flat = hidden.reshape(batch * length, width)
        weight, bias = layer["qkv"]
        qkv = (flat @ weight + bias).reshape(batch, length, 3, heads, head_width).transpose(2, 0, 3, 1, 4)
        # Contiguous heads: numpy's stacked matmul calls BLAS only on contiguous matrices.
        query, key, value = (np.ascontiguousarray(part) for part in qkv)
        scores = query @ key.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(head_width)) + key_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
        weight, bias = layer["attention_out"]
        attended = layer_norm(context @ weight + bias + flat, *layer["attention_norm"], self.eps)
        out = np.empty_like(attended)
        (inner_weight, inner_bias), (out_weight, out_bias) = layer["intermediate"], layer["output"]
        # The feed-forward block in row chunks: each chunk's 1536-wide activations stay in cache
        # through GELU's dozen elementwise passes (numpy makes one pass per operation).
        for start in range(0, attended.shape[0], FFN_ROWS):
            rows = attended[start : start + FFN_ROWS]
            inner = rows @ inner_weight
            inner += inner_bias
            gelu_(inner)
            chunk = inner @ out_weight
            chunk += out_bias
            chunk += rows
            out[start : start + FFN_ROWS] = chunk
        return layer_norm(out, *layer["output_norm"], self.eps).reshape(batch, length, width)
