"""The numpy and torch-bert MiniLM engines compute what transformers' BertModel computes; auto starts on
numpy (no torch import) and moves to torch-bert once a run is long."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from summarizer.extractive import embeddings
from summarizer.extractive.bert_numpy import gelu, supports
from summarizer.extractive.embeddings import SentenceEncoder, length_batches, packaged_model_path
from summarizer.text import split_sentences

SENTENCES = [
    "The council approved the budget on Tuesday after a three-hour debate.",
    "",
    "Ünïcödé — “quotes”, 中文字符 and an emoji 😀 in one sentence.",
    "Short.",
    "word " * 400,  # past the 256-token cut
    "Police said the suspect, 34, was arrested near the station at 9pm.",
]


@pytest.fixture(scope="module")
def encoders() -> tuple[SentenceEncoder, SentenceEncoder]:
    return SentenceEncoder(engine="numpy", batch_size=4), SentenceEncoder(engine="torch", batch_size=4)


def test_gelu_matches_the_exact_erf_form():
    x = np.linspace(-12, 12, 48001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    assert np.abs(gelu(x) - exact).max() < 5e-7


def test_auto_picks_numpy_for_the_packaged_minilm():
    assert SentenceEncoder().engine == "numpy"


def test_numpy_and_torch_tokenize_alike(encoders):
    numpy_engine, torch_engine = encoders
    assert numpy_engine._tokenize(SENTENCES) == torch_engine._tokenize(SENTENCES)
    assert max(len(ids) for ids in numpy_engine._tokenize(SENTENCES)) == 256


@pytest.fixture
def dev_sentences(summeval_path) -> list[str]:
    articles = [json.loads(line)["article"] for line in summeval_path.read_text().splitlines()[:3]]
    return SENTENCES + [s for article in articles for s in split_sentences(article)]


def test_numpy_embeddings_equal_torch_to_float32_precision(encoders, dev_sentences):
    numpy_vectors, torch_vectors = (encoder.encode(dev_sentences) for encoder in encoders)
    assert numpy_vectors.shape == torch_vectors.shape == (len(dev_sentences), 384)
    assert np.abs(numpy_vectors - torch_vectors).max() < 1e-5
    assert np.allclose(np.linalg.norm(numpy_vectors, axis=1), 1.0, atol=1e-5)


def test_torch_bert_embeddings_equal_transformers_to_float32_precision(encoders, dev_sentences):
    # Packed tokens in the linear layers, padded ones in attention: batches of mixed lengths.
    torch_bert = SentenceEncoder(engine="torch-bert", batch_size=4)
    assert torch_bert.engine == "torch-bert"
    vectors = torch_bert.encode(dev_sentences)
    assert vectors.shape == (len(dev_sentences), 384)
    assert np.abs(vectors - encoders[1].encode(dev_sentences)).max() < 1e-5


def test_auto_moves_to_torch_bert_once_a_run_is_long(encoders, dev_sentences, monkeypatch):
    monkeypatch.setattr(embeddings, "TORCH_AFTER_TOKENS", 200)
    auto = SentenceEncoder(batch_size=4)
    first = auto.encode(SENTENCES[:1])  # a dozen tokens: still numpy
    assert auto.engine == "numpy"
    vectors = auto.encode(dev_sentences)  # the tokens so far pass 200: this call runs on torch
    assert auto.engine == "torch-bert"
    assert np.abs(first - encoders[0].encode(SENTENCES[:1])).max() < 1e-6
    assert np.abs(vectors - encoders[0].encode(dev_sentences)).max() < 1e-5


def test_vectors_come_back_in_input_order(encoders):
    numpy_engine, _ = encoders
    forward = numpy_engine.encode(SENTENCES)
    backward = numpy_engine.encode(SENTENCES[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-6)
    assert numpy_engine.encode([]).shape == (0, 0)


def test_length_batches_keep_similar_lengths_and_every_index():
    lengths = [5, 100, 7, 6, 90, 8, 95]
    batches = length_batches(lengths, max_rows=3, max_tokens=200)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) * max(lengths[i] for i in batch) <= 200 or len(batch) == 1
    assert batches[0] == [0, 3, 2]


def test_numpy_engine_refuses_a_model_it_cannot_compute(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "roberta", "hidden_act": "gelu"}))
    assert not supports({"model_type": "bert", "hidden_act": "relu"})
    with pytest.raises(ValueError, match="numpy engine needs a BERT model"):
        SentenceEncoder(tmp_path, engine="numpy")


def test_the_default_model_summarizes_without_importing_torch(seed_file):
    code = (
        "import sys\n"
        "from summarizer.articles import Article\n"
        "from summarizer.backends.registry import create_backend\n"
        "from summarizer.specs import resolve_spec\n"
        f"text = open({str(seed_file)!r}, encoding='utf-8').read()\n"
        "backend = create_backend(resolve_spec('points'))\n"
        "out = list(backend.summarize_many([Article(id='seed', text=text)], 5))\n"
        "assert out[0].text.strip(), out\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert packaged_model_path().is_dir()


def test_bfloat16_is_torch_bert_close_to_float32(encoders, dev_sentences):
    auto = SentenceEncoder(batch_size=4, dtype="bfloat16")
    assert auto.engine == "torch-bert"  # numpy has no bfloat16: every vector from the same arithmetic
    vectors = auto.encode(dev_sentences)
    assert vectors.dtype == np.float32
    cosines = (vectors * encoders[0].encode(dev_sentences)).sum(axis=1)
    assert cosines.min() > 0.999
    with pytest.raises(ValueError, match="numpy engine computes in float32 only"):
        SentenceEncoder(engine="numpy", dtype="bfloat16")
