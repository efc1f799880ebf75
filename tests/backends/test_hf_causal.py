"""hf-causal end to end on tiny random chat (Qwen2 + ChatML) and base (GPT-2) models, on CPU, offline."""

from __future__ import annotations

import logging

import pytest

from summarizer.articles import Article
from summarizer.backends.hf_causal import CausalLMBackend
from summarizer.backends.registry import create_backend
from summarizer.hub import ModelUnavailableError, is_cached
from summarizer.prompts import SYSTEM_PROMPT
from summarizer.specs import ModelSpec, resolve_spec
from tests.backends.tiny_models import article_text, articles_around_limit, tiny_spec

MAX_NEW_TOKENS = 12

pytestmark = pytest.mark.usefixtures("restore_torch_threads")


def run(backend, articles):
    return {output.article.id: output for output in backend.summarize_many(articles, n_bullets=3)}


@pytest.mark.parametrize("model_fixture", ["tiny_chat_lm_dir", "tiny_plain_lm_dir"])
def test_model_directory_resolves_to_causal_backend(model_fixture, request):
    backend = create_backend(resolve_spec(str(request.getfixturevalue(model_fixture))))
    assert isinstance(backend, CausalLMBackend)
    assert backend.offline_status() == (True, "local")


@pytest.mark.parametrize("model_fixture", ["tiny_chat_lm_dir", "tiny_plain_lm_dir"])
def test_every_article_summarized_and_long_one_chunked(model_fixture, request):
    backend = create_backend(tiny_spec(request.getfixturevalue(model_fixture), max_new_tokens=MAX_NEW_TOKENS))
    articles = articles_around_limit(backend)

    outputs = run(backend, articles)

    assert set(outputs) == {article.id for article in articles}
    assert all(isinstance(output.text, str) and output.error is None for output in outputs.values())
    assert outputs["long"].path == "chunked" and outputs["long"].n_chunks > 1
    assert [outputs[a.id].path for a in articles if a.id != "long"] == ["direct", "direct"]


def test_chat_template_renders_the_shared_prompt(tiny_chat_lm_dir):
    backend = create_backend(tiny_spec(tiny_chat_lm_dir, max_new_tokens=MAX_NEW_TOKENS))
    article = Article(id="a", title="Budget", text=article_text(1))

    prompt = backend.prepare_prompt(article, n_bullets=4)

    assert prompt.startswith("<|im_start|>system\n" + SYSTEM_PROMPT)
    assert "<article>\nBudget\n\n" + article.text + "\n</article>" in prompt
    assert "exactly 4 bullet points" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert backend.tokenizer.padding_side == "left"


def test_without_chat_template_a_plain_prompt_is_used(tiny_plain_lm_dir, caplog):
    backend = create_backend(tiny_spec(tiny_plain_lm_dir, max_new_tokens=MAX_NEW_TOKENS))
    with caplog.at_level(logging.WARNING, logger="summarizer.backends.hf_causal"):
        prompt = backend.prepare_prompt(Article(id="a", text=article_text(1)), n_bullets=3)

    assert prompt.startswith(SYSTEM_PROMPT + "\n\n")
    assert prompt.endswith("\n\nAssistant:")
    assert any("no chat template" in record.getMessage() for record in caplog.records)
    # GPT-2 style tokenizers have no pad token: batching pads with EOS.
    assert backend.tokenizer.pad_token == backend.tokenizer.eos_token


def test_input_limit_leaves_room_for_prompt_and_answer(tiny_chat_lm_dir):
    backend = create_backend(tiny_spec(tiny_chat_lm_dir, max_new_tokens=MAX_NEW_TOKENS))
    limit = backend.input_limit()
    overhead = backend.prompt_length(backend.render_prompt(Article(id="", text=""), n_bullets=3))
    assert 0 < limit <= 384 - MAX_NEW_TOKENS - overhead

    fitting = Article(id="fits", text=article_text(1))
    while backend.article_tokens(fitting) + 40 <= limit:
        fitting = Article(id="fits", text=fitting.text + " " + article_text(1, offset=len(fitting.text)))
    prompt = backend.prepare_prompt(fitting, n_bullets=3)
    assert fitting.text in prompt
    assert backend.prompt_length(prompt) <= 384 - MAX_NEW_TOKENS


def test_context_too_small_for_prompt_and_answer_is_a_clear_error(tiny_chat_lm_dir):
    # The default max_new_tokens (256) plus the instructions do not fit the tiny 384-token context.
    backend = create_backend(tiny_spec(tiny_chat_lm_dir))
    with pytest.raises(ValueError, match="no room for an article"):
        backend.input_limit()
    with pytest.raises(ValueError, match="lower max_new_tokens"):
        run(backend, [Article(id="a", text=article_text(1))])


def test_prompt_over_the_context_cuts_the_article_with_a_warning(tiny_chat_lm_dir, caplog):
    backend = create_backend(tiny_spec(tiny_chat_lm_dir, max_new_tokens=MAX_NEW_TOKENS))
    article = Article(id="too-long", text=article_text(12))

    with caplog.at_level(logging.WARNING, logger="summarizer.backends.hf_causal"):
        prompt = backend.prepare_prompt(article, n_bullets=3)

    assert backend.prompt_length(prompt) <= backend.prompt_budget()
    assert prompt.endswith("<|im_start|>assistant\n")
    assert any("too-long" in r.getMessage() and "truncating" in r.getMessage() for r in caplog.records)


def test_greedy_generation_is_deterministic_and_decodes_only_new_tokens(tiny_chat_lm_dir):
    # The tiny model's generation_config asks for sampling (as Qwen2.5-Instruct's does).
    articles = [Article(id=f"a{i}", text=article_text(1, offset=i)) for i in range(3)]
    options = {"max_new_tokens": MAX_NEW_TOKENS, "batch_size": 2}
    first = create_backend(tiny_spec(tiny_chat_lm_dir, **options)).summarize_batch(articles, n_bullets=3)
    second = create_backend(tiny_spec(tiny_chat_lm_dir, **options)).summarize_batch(articles, n_bullets=3)

    assert first == second
    assert any(first)
    assert not any("news editor" in text or "<article>" in text for text in first)


def test_greedy_overrides_sampling_defaults_and_sampling_is_opt_in():
    spec = ModelSpec(name="x", backend="hf-causal", options={"model": "some/model"})
    backend = CausalLMBackend(spec)
    backend.tokenizer = type("Tokenizer", (), {"pad_token_id": 0})()
    assert backend.generation_kwargs()["do_sample"] is False

    sampled = CausalLMBackend(spec.model_copy(update={"options": {"model": "m", "temperature": 0.7}}))
    sampled.tokenizer = backend.tokenizer
    assert sampled.generation_kwargs() | {"pad_token_id": 0} == {
        "max_new_tokens": 256, "pad_token_id": 0, "do_sample": True, "temperature": 0.7, "top_p": 1.0
    }


def test_shipped_qwen_spec_needs_the_hub_unless_cached():
    backend = create_backend(resolve_spec("qwen2.5-1.5b-instruct"))
    assert backend.backend_id == "hf-causal"
    if not is_cached(backend.options.model):
        assert backend.offline_status() == (False, "needs the Hugging Face Hub (not cached)")


def test_hub_model_fails_fast_offline():
    model_id = "Qwen/Qwen2.5-1.5B-Instruct"
    if is_cached(model_id):
        pytest.skip(f"{model_id} is in the local Hugging Face cache, so it would load")
    backend = create_backend(resolve_spec("qwen2.5-1.5b-instruct"))

    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE") as raised:
        backend.ensure_loaded()

    assert model_id in str(raised.value)


def test_rows_at_token_limit_tells_cut_rows_from_finished_ones():
    import torch

    from summarizer.backends.hf_common import rows_at_token_limit

    eos, pad = 2, 0
    # Row 0 ended with EOS (then padding), row 1 ran out of the 4 new tokens, row 2 ended on its last token.
    new_tokens = torch.tensor([[5, 6, eos, pad], [5, 6, 7, 8], [5, 6, 7, eos]])
    assert rows_at_token_limit(new_tokens, eos, 4) == [False, True, False]
    assert rows_at_token_limit(new_tokens, [eos, 9], 4) == [False, True, False]
    assert rows_at_token_limit(new_tokens, eos, 8) == [False, False, False]  # none reached the limit
