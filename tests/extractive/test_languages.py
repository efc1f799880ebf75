"""Issue 40: the default model on news in Ukrainian, Russian, German, Spanish and French.

The fixture articles (tests/fixtures/languages/, written for these tests) have a headline line, then
8 to 20 sentences of news prose with the abbreviations each language's splitter must know.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from summarizer.backends.registry import backend_for
from summarizer.ingest import IngestOptions, load_articles
from summarizer.pipeline import RunSettings, summarize_articles
from summarizer.text import split_sentences

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "languages"
LANGUAGES = ("uk", "ru", "de", "es", "fr")


@pytest.fixture(scope="module")
def points():
    backend = backend_for("points")
    backend.ensure_loaded()
    return backend


def fixture_article(language: str):
    [article] = load_articles([str(FIXTURES / f"{language}.txt")], IngestOptions())
    return article


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n_bullets", (3, 5))
def test_default_model_gives_distinct_whole_sentences_in_the_articles_language(points, language, n_bullets):
    article = fixture_article(language)
    [summary] = summarize_articles([article], points, RunSettings(n_bullets=n_bullets))
    assert summary.error is None and summary.warning is None
    assert summary.language == language
    assert summary.encoder == "usem3"
    assert len(summary.bullets) == n_bullets
    sentences = split_sentences(article.text, language)
    for bullet in summary.bullets:
        assert bullet != article.title
        assert bullet in sentences[1:], bullet  # a whole sentence of the body, not the headline
    vectors = points.encoder_for(language).encode(summary.bullets)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    assert similarity.max() <= points.options.max_similarity


def test_english_articles_keep_minilm(points, seed_file):
    [article] = load_articles([str(seed_file)], IngestOptions())
    [summary] = summarize_articles([article], points, RunSettings(n_bullets=5))
    assert (summary.language, summary.encoder) == ("en", "minilm")
    assert points.multilingual_encoder is None or summary.encoder == "minilm"


@pytest.mark.parametrize("method", ("textrank", "lexrank", "lead-3"))
def test_no_method_takes_the_headline(method):
    for language in LANGUAGES:
        article = fixture_article(language)
        [summary] = summarize_articles([article], backend_for(method), RunSettings(n_bullets=3))
        assert article.title and article.title not in summary.bullets
        assert len(summary.bullets) == 3


def test_english_compression_rules_are_not_applied_to_other_languages():
    from summarizer.extractive.compression import rules_for_language

    rules = ["datelines", "connectives", "trailing_attributions", "parentheticals", "trailing_clauses"]
    assert rules_for_language(rules, "en") == rules
    assert rules_for_language(rules, None) == rules
    assert rules_for_language(rules, "de") == ["datelines", "parentheticals"]


def test_multilingual_encoder_loads_and_encodes_without_network(monkeypatch):
    import socket

    from summarizer.extractive.multilingual import MultilingualEncoder

    def refuse(*args, **kwargs):
        raise AssertionError("the multilingual encoder tried to open a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    vectors = MultilingualEncoder().encode(["Уряд ухвалив бюджет.", "Die Regierung hat den Haushalt beschlossen."])
    assert vectors.shape == (2, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_chinese_article_gets_bullets(points):
    from summarizer.articles import Article

    text = ("杭州市政府周二宣布，新的钱塘江跨江大桥正式通车，工程历时两年多完成。"
            "大桥全长约三公里，设有双向六车道和专用的自行车道。"
            "市交通部门表示，大桥通车后，滨江区到市中心的车程将缩短二十分钟左右。"
            "工程总投资约四十八亿元，其中一部分资金来自省级财政补贴。"
            "附近居民此前曾抱怨施工期间噪音和灰尘问题严重，市政府承诺将在桥边种植三百多棵树。")
    article = Article(id="zh", title="杭州新跨江大桥正式通车", text=text)
    [summary] = summarize_articles([article], points, RunSettings(n_bullets=3))
    assert summary.error is None and summary.warning is None
    assert (summary.language, summary.encoder, len(summary.bullets)) == ("zh", "usem3", 3)
    assert all(bullet in split_sentences(text) for bullet in summary.bullets)
