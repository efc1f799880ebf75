"""Q4_0 encoding that chooses each block's scale by least squares, in numpy.

Why: llama.cpp repacks Q4_0 matrices for its x86 matrix kernels (AVX2 and AVX-512), the fastest it has on
CPUs for batched decoding and prompts. The only SmolLM2 weights here are Q4_1, so a Q4_0 file has to be
re-encoded from them. The reference encoder (ggml's ``quantize_row_q4_0_ref``, also gguf-py's) maps the
block's largest weight to level -8 and rounds the rest; starting from weights that already sit on a
4-bit grid that adds error on the order of Q4_1's own. Trying several scales per block and refining each
by least squares cut the added RMS error by 8-12% on SmolLM2's matrices (median 11.5%,
eval/q4_0-error.md).

A Q4_0 block is 32 weights ``w ≈ d * q`` with ``d`` a float16 and ``q`` in -8..7 (stored as 0..15,
element ``j`` in the low nibble of byte ``j`` and element ``j + 16`` in its high nibble).
"""

from __future__ import annotations

import numpy as np

# Part of the cached conversions' file names (summarizer.gguf_convert.file_label): change it whenever the
# encoding below changes, or conversions made by the old one are reused.
REVISION = "ls1"
BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
# Divisors of the block's largest-magnitude weight tried as starting scales: the reference's -8, and the
# other sign's 7 (the largest weight at level +7), with neighbours that let a few outliers clip.
START_DIVISORS = (*np.arange(-8.5, -5.9, 0.25), *np.arange(6.0, 7.6, 0.25))
REFINEMENTS = 2


def _levels(blocks: np.ndarray, scale: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(scale == 0, 0, 1 / scale)[:, None]
    return np.clip(np.rint(blocks * inverse), -8, 7)


def _squared_error(blocks: np.ndarray, scale: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return ((blocks - scale[:, None] * levels) ** 2).sum(axis=-1)


def _as_stored(scale: np.ndarray) -> np.ndarray:
    return scale.astype(np.float16).astype(np.float32)


def encode_blocks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scales (float16) and levels (uint8, 0..15) for ``blocks`` of shape (n, 32): per block, the
    candidate with the smallest squared error, never worse than the reference encoding."""
    blocks = blocks.astype(np.float32)
    largest = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=-1, keepdims=True), axis=-1)[:, 0]
    best_scale = _as_stored(largest / -8)
    best_levels = _levels(blocks, best_scale)
    best_error = _squared_error(blocks, best_scale, best_levels)
    for divisor in START_DIVISORS:
        scale = largest / np.float32(divisor)
        for _ in range(REFINEMENTS):
            levels = _levels(blocks, scale)
            norm = (levels * levels).sum(axis=-1)
            scale = np.where(norm > 0, (blocks * levels).sum(axis=-1) / np.maximum(norm, 1e-30), 0)
        scale = _as_stored(scale.astype(np.float32))
        levels = _levels(blocks, scale)
        error = _squared_error(blocks, scale, levels)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_scale = np.where(better, scale, best_scale)
        best_levels = np.where(better[:, None], levels, best_levels)
    return best_scale.astype(np.float16), (best_levels + 8).astype(np.uint8)


def quantize(values: np.ndarray) -> np.ndarray:
    """``values`` (rows of a multiple of 32) as Q4_0 bytes, shaped as gguf-py's ``quants.quantize`` returns
    them: the last axis becomes ``columns // 32 * 18`` bytes."""
    if values.shape[-1] % BLOCK:
        raise ValueError(f"Q4_0 needs rows of a multiple of {BLOCK} values, got {values.shape[-1]}")
    scale, levels = encode_blocks(values.reshape(-1, BLOCK))
    halves = levels.reshape(-1, 2, BLOCK // 2)
    packed = halves[:, 0, :] | (halves[:, 1, :] << np.uint8(4))
    out = np.concatenate([scale.reshape(-1, 1).view(np.uint8), packed], axis=-1)
    return out.reshape(*values.shape[:-1], values.shape[-1] // BLOCK * BLOCK_BYTES)
