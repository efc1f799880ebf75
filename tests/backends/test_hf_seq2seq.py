"""hf-seq2seq end to end on tiny random BART and T5 models: real transformers code on CPU, offline."""

from __future__ import annotations

import logging

import pytest

from summarizer.articles import Article
from summarizer.backends.hf_seq2seq import Seq2SeqBackend
from summarizer.backends.registry import create_backend
from summarizer.hub import ModelUnavailableError, is_cached
from summarizer.specs import ModelSpec, resolve_spec
from tests.backends.tiny_models import article_text, articles_around_limit, tiny_spec

GREEDY = {"num_beams": 1, "max_new_tokens": 8}

pytestmark = pytest.mark.usefixtures("restore_torch_threads")


def run(backend, articles):
    return {output.article.id: output for output in backend.summarize_many(articles, n_bullets=3)}


@pytest.mark.parametrize("model_fixture", ["tiny_bart_dir", "tiny_t5_dir"])
def test_model_directory_resolves_to_seq2seq_backend(model_fixture, request):
    model_dir = request.getfixturevalue(model_fixture)
    backend = create_backend(resolve_spec(str(model_dir)))
    assert isinstance(backend, Seq2SeqBackend)
    assert backend.offline_status() == (True, "local")


@pytest.mark.parametrize("model_fixture", ["tiny_bart_dir", "tiny_t5_dir", "tiny_led_dir"])
def test_every_article_summarized_and_long_one_chunked(model_fixture, request):
    backend = create_backend(tiny_spec(request.getfixturevalue(model_fixture), **GREEDY))
    articles = articles_around_limit(backend)

    outputs = run(backend, articles)

    assert set(outputs) == {article.id for article in articles}
    assert all(isinstance(output.text, str) and output.error is None for output in outputs.values())
    assert outputs["long"].path == "chunked" and outputs["long"].n_chunks > 1
    assert [outputs[a.id].path for a in articles if a.id != "long"] == ["direct", "direct"]


def test_beam_search_with_default_options_runs(tiny_bart_dir):
    backend = create_backend(tiny_spec(tiny_bart_dir, max_new_tokens=8))
    assert backend.options.num_beams == 4

    [text] = backend.summarize_batch([Article(id="a", text=article_text(1))], n_bullets=3)

    assert isinstance(text, str) and text


def test_bart_limit_comes_from_position_embeddings(tiny_bart_dir):
    backend = create_backend(tiny_spec(tiny_bart_dir))
    # The tokenizer has no model_max_length; config.max_position_embeddings is 64, minus <s> and </s>.
    assert backend.prefix == ""
    assert backend.input_limit() == 64 - 2


def test_led_limit_comes_from_encoder_positions_and_gets_global_attention(tiny_led_dir):
    backend = create_backend(tiny_spec(tiny_led_dir))
    assert backend.input_limit() == 96 - 2
    encoded = backend.tokenizer(["One.", "Two words."], padding=True, return_tensors="pt")
    global_mask = backend.global_attention(encoded)["global_attention_mask"]
    assert global_mask[:, 0].tolist() == [1, 1] and int(global_mask.sum()) == 2


def test_t5_prefix_is_added_and_counted(tiny_t5_dir):
    backend = create_backend(tiny_spec(tiny_t5_dir))
    article = Article(id="a", title="Budget", text=article_text(1))

    assert backend.prefix == "summarize: "
    assert backend.prepare_input(article) == "summarize: Budget\n" + article.text
    prefix_tokens = backend.count_tokens("summarize: ")
    assert prefix_tokens > 0
    # tokenizer model_max_length is 64; the prefix and </s> take their share.
    assert backend.input_limit() == 64 - prefix_tokens - 1


def test_explicit_prefix_overrides_the_automatic_one(tiny_t5_dir):
    backend = create_backend(tiny_spec(tiny_t5_dir, prefix=""))
    assert backend.prepare_input(Article(id="a", text="Plain text.")) == "Plain text."


def test_greedy_generation_is_deterministic(tiny_t5_dir):
    articles = [Article(id=f"a{i}", text=article_text(1, offset=i)) for i in range(3)]
    first = create_backend(tiny_spec(tiny_t5_dir, **GREEDY)).summarize_batch(articles, n_bullets=3)
    second = create_backend(tiny_spec(tiny_t5_dir, **GREEDY)).summarize_batch(articles, n_bullets=3)
    assert first == second
    assert any(first)


def test_length_sorted_batches_keep_article_order(tiny_t5_dir):
    backend = create_backend(tiny_spec(tiny_t5_dir, batch_size=1, **GREEDY))
    # Longest first, so sorting by length reverses the order inside summarize_batch.
    articles = [Article(id=f"a{n}", text=article_text(n, offset=n)) for n in (2, 1)]
    articles.append(Article(id="tiny", text="Rates rose."))

    together = backend.summarize_batch(articles, n_bullets=3)
    one_by_one = [backend.summarize_batch([article], n_bullets=3)[0] for article in articles]

    assert together == one_by_one


@pytest.mark.parametrize(("model_fixture", "padding_side"),
                         [("tiny_bart_dir", "right"), ("tiny_bart_dir", "left"), ("tiny_t5_dir", "right"),
                          ("tiny_led_dir", "right")])
def test_encoder_groups_give_the_whole_batch_text(model_fixture, padding_side, request):
    model_dir = request.getfixturevalue(model_fixture)
    articles = [Article(id=f"a{n}", text=article_text(1, offset=n)[: 40 + 90 * n]) for n in range(5)]
    whole = create_backend(tiny_spec(model_dir, batch_size=5, encoder_batch_size=None, **GREEDY))
    grouped = create_backend(tiny_spec(model_dir, batch_size=5, encoder_batch_size=2, **GREEDY))
    for backend in (whole, grouped):
        backend.ensure_loaded()
        backend.tokenizer.padding_side = padding_side
    widths: list[tuple[int, int]] = []
    grouped.model.get_encoder().register_forward_hook(
        lambda module, args, kwargs, output: widths.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )

    assert grouped.summarize_batch(articles, n_bullets=3) == whole.summarize_batch(articles, n_bullets=3)
    # Three groups (2, 2, 1 articles), shortest first, each only as wide as its own longest input.
    assert [rows for rows, _ in widths] == [2, 2, 1]
    assert widths[0][1] < widths[1][1] < widths[2][1]


def test_encoder_groups_work_with_beam_search(tiny_bart_dir):
    articles = [Article(id=f"a{n}", text=article_text(1, offset=n)[: 40 + 90 * n]) for n in range(3)]
    beams = {"num_beams": 3, "max_new_tokens": 8, "batch_size": 3}
    whole = create_backend(tiny_spec(tiny_bart_dir, encoder_batch_size=None, **beams))
    grouped = create_backend(tiny_spec(tiny_bart_dir, encoder_batch_size=1, **beams))
    assert grouped.summarize_batch(articles, n_bullets=3) == whole.summarize_batch(articles, n_bullets=3)


def test_input_over_the_limit_is_truncated_with_a_warning(tiny_bart_dir, caplog):
    backend = create_backend(tiny_spec(tiny_bart_dir, **GREEDY))
    article = Article(id="too-long", text=article_text(6))
    excess = backend.article_tokens(article) - backend.input_limit()
    assert excess > 0

    with caplog.at_level(logging.WARNING, logger="summarizer.backends.hf_seq2seq"):
        [text] = backend.summarize_batch([article], n_bullets=3)

    assert isinstance(text, str)
    [record] = [r for r in caplog.records if "too-long" in r.getMessage()]
    assert f"truncating {excess} tokens" in record.getMessage()


def test_greedy_leaves_out_beam_only_settings():
    spec = ModelSpec(name="x", backend="hf-seq2seq", options={"model": "some/model", "num_beams": 1})
    kwargs = Seq2SeqBackend(spec).generation_kwargs()
    assert "early_stopping" not in kwargs and "length_penalty" not in kwargs
    assert kwargs["num_beams"] == 1 and kwargs["no_repeat_ngram_size"] == 3


def test_newline_token_becomes_a_line_break():
    spec = ModelSpec(name="x", backend="hf-seq2seq", options={"model": "some/model", "newline_token": "<n>"})
    assert Seq2SeqBackend(spec).restore_newlines("First fact. <n> Second fact.") == "First fact.\nSecond fact."


def test_unknown_option_is_rejected():
    spec = ModelSpec(name="x", backend="hf-seq2seq", options={"model": "some/model", "beams": 4})
    with pytest.raises(ValueError, match="beams"):
        create_backend(spec)


def test_shipped_hub_specs_need_the_hub_unless_cached():
    for name in ("bart-large-cnn", "distilbart-cnn-12-6", "pegasus-cnn-dailymail", "t5-small"):
        backend = create_backend(resolve_spec(name))
        assert backend.backend_id == "hf-seq2seq"
        if not is_cached(backend.options.model):
            assert backend.offline_status() == (False, "needs the Hugging Face Hub (not cached)")


def test_missing_local_directory_is_not_usable_offline(tmp_path):
    spec = ModelSpec(name="x", backend="hf-seq2seq", options={"model": str(tmp_path / "absent")})
    usable, reason = create_backend(spec).offline_status()
    assert not usable and "not found" in reason


def test_hub_model_fails_fast_offline():
    model_id = "facebook/bart-large-cnn"
    if is_cached(model_id):
        pytest.skip(f"{model_id} is in the local Hugging Face cache, so it would load")
    backend = create_backend(resolve_spec("bart-large-cnn"))

    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE") as raised:
        backend.ensure_loaded()

    assert model_id in str(raised.value)
    with pytest.raises(ModelUnavailableError, match=model_id):
        resolve_spec(model_id)


def test_generation_on_a_gpu_leaves_cudnn_attention_out():
    """cuDNN plans a kernel per attention shape, and decoding changes the shape every step: on CUDA the
    transformers backends generate with the other attention kernels (flags only: no GPU needed)."""
    torch = pytest.importorskip("torch")
    from summarizer.backends.hf_common import generation_context

    cudnn_before = torch.backends.cuda.cudnn_sdp_enabled()
    with generation_context("cuda:0", torch):
        assert torch.is_inference_mode_enabled()
        assert not torch.backends.cuda.cudnn_sdp_enabled()
        assert torch.backends.cuda.flash_sdp_enabled() and torch.backends.cuda.mem_efficient_sdp_enabled()
    assert torch.backends.cuda.cudnn_sdp_enabled() == cudnn_before
    with generation_context("cpu", torch):
        assert torch.is_inference_mode_enabled()
        assert torch.backends.cuda.cudnn_sdp_enabled() == cudnn_before
