import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from summarizer import q4_0  # noqa: E402

Q4_0 = gguf.GGMLQuantizationType.Q4_0


def squared_errors_per_block(encoded: np.ndarray, values: np.ndarray) -> np.ndarray:
    return ((gguf.quants.dequantize(encoded, Q4_0) - values) ** 2).reshape(-1, q4_0.BLOCK).sum(axis=-1)


def test_encoding_reads_back_through_gguf_and_never_loses_to_the_reference():
    rng = np.random.default_rng(0)
    # Weights already on a 4-bit grid with an offset, as Q4_1 dequantized, plus plain Gaussian rows.
    grid = rng.integers(0, 16, size=(48, 64)) * 0.01 - rng.uniform(0, 0.1, size=(48, 1))
    values = np.concatenate([grid, rng.normal(0, 0.1, size=(16, 64))]).astype(np.float32)

    ours, reference = q4_0.quantize(values), gguf.quants.quantize(values, Q4_0)

    assert ours.shape == reference.shape and ours.dtype == np.uint8
    mine, theirs = squared_errors_per_block(ours, values), squared_errors_per_block(reference, values)
    assert (mine <= theirs * (1 + 1e-6)).all()
    assert mine.sum() < 0.95 * theirs.sum()


def test_exact_blocks_and_zero_blocks_read_back_exactly():
    levels = np.arange(-8, 24) % 16 - 8  # every level -8..7, twice
    values = np.stack([levels * 0.25, np.zeros(32)]).astype(np.float32)

    assert np.array_equal(gguf.quants.dequantize(q4_0.quantize(values), Q4_0), values)


def test_rows_that_are_not_whole_blocks_are_refused():
    with pytest.raises(ValueError, match="multiple of 32"):
        q4_0.quantize(np.zeros((2, 40), dtype=np.float32))
