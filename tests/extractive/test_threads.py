"""The default model's thread limit: set around its own numeric work only, and restored after."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from threadpoolctl import threadpool_info

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.extractive.threads import limited_threads
from summarizer.specs import resolve_spec

ARTICLE = Article(id="budget", text=(
    "The city council approved a new budget on Tuesday after a long and heated debate. "
    "Officials said the plan would add two hundred buses to the public transport network. "
    "The budget also funds repairs to three bridges in the old town over the next years. "
    "Critics said the council had ignored rising rents in the suburbs for far too long. "
    "The mayor promised a second vote on housing before the end of the summer."))


def blas_threads() -> list[int]:
    """Thread counts of the BLAS libraries loaded in this process (numpy's OpenBLAS at least)."""
    np.ones((2, 2)) @ np.ones((2, 2))
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def test_blas_is_limited_inside_the_block_and_restored_after():
    before = blas_threads()
    assert before, "numpy should have loaded a BLAS library"
    with limited_threads(1):
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before


def test_none_leaves_the_libraries_alone():
    before = blas_threads()
    with limited_threads(None):
        assert blas_threads() == before


def test_torch_intra_op_threads_are_limited_and_restored():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_the_default_model_encodes_under_its_thread_limit(monkeypatch):
    backend = create_backend(resolve_spec("points"))
    assert backend.options.threads == 1
    backend.ensure_loaded()
    seen: list[list[int]] = []
    forward = backend.encoder._forward

    def recording_forward(ids, mask):
        seen.append(blas_threads())
        return forward(ids, mask)

    monkeypatch.setattr(backend.encoder, "_forward", recording_forward)
    outside = blas_threads()
    texts = backend.summarize_batch([ARTICLE], n_bullets=2)

    assert texts[0].strip() and seen and all(counts == [1] * len(outside) for counts in seen)
    assert blas_threads() == outside


def test_threads_is_a_spec_option_and_null_means_the_library_default():
    spec = resolve_spec("points")
    unlimited = create_backend(spec.model_copy(update={"options": {**spec.options, "threads": None}}))
    assert unlimited.options.threads is None
    with pytest.raises(ValidationError, match="threads"):
        create_backend(spec.model_copy(update={"options": {**spec.options, "threads": 0}}))
