"""Language identification (py3langid, offline) and the language the bullets are asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.articles import Article
from summarizer.language import (
    article_language,
    bullet_language,
    identify_language,
    is_language_code,
    language_name,
    with_bullet_language,
)
from summarizer.prompts import build_messages

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "languages"


@pytest.mark.parametrize("language", ("uk", "ru", "de", "es", "fr"))
def test_fixture_languages_are_identified(language):
    assert identify_language((FIXTURES / f"{language}.txt").read_text(encoding="utf-8")) == language


def test_english_and_too_little_text():
    assert identify_language("The council approved the budget for the new bridge on Tuesday evening.") == "en"
    assert identify_language("OK 42") is None
    assert identify_language("") is None


def test_identification_needs_no_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("language identification tried to open a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert identify_language("Правительство объявило о новых мерах поддержки фермеров.") == "ru"


def test_article_language_is_kept_on_the_article():
    article = Article(id="a", text="Die Regierung hat am Dienstag neue Maßnahmen für Landwirte angekündigt.")
    assert article_language(article) == "de"
    article.text = "Something else entirely, written in English this time around."
    assert article_language(article) == "de"  # identified once
    assert article_language(Article(id="b", text="", error="cannot read")) is None


def test_prompt_asks_for_the_articles_language_or_the_override():
    article = Article(id="uk", text=(FIXTURES / "uk.txt").read_text(encoding="utf-8"))
    assert "in Ukrainian" in build_messages(article, 3)[1]["content"]
    [english] = with_bullet_language([article], "en")
    assert bullet_language(english) == "en"
    assert "in English" in build_messages(english, 3)[1]["content"]
    unknown = Article(id="x", text="?")
    assert "in the language the article is written in" in build_messages(unknown, 3)[1]["content"]


def test_prompt_text_before_the_article_is_the_same_for_every_language():
    german = build_messages(Article(id="de", text="Die Stadt baut neue Radwege entlang der Elbe bis 2027."), 3)
    english = build_messages(Article(id="en", text="The city is building new cycle paths along the river."), 3)
    prefix = german[1]["content"].split("<article>")[0]
    assert english[1]["content"].startswith(prefix) and german[0] == english[0]


def test_language_codes_and_names():
    assert is_language_code("en") and is_language_code("uk")
    assert not is_language_code("english") and not is_language_code("EN") and not is_language_code("e")
    assert language_name("uk") == "Ukrainian" and language_name("xx") == "xx" and language_name(None) == "unknown"


def test_clearly_english_shortcut_agrees_with_the_model(summeval_path):
    """The function-word shortcut answers "en" only where the statistical model says "en" too, and never
    for the German, Spanish and French fixtures."""
    import json

    from summarizer.language import _identifier, is_clearly_english

    articles = [json.loads(line)["article"][:2000] for line in summeval_path.read_text(encoding="utf-8").splitlines()]
    shortcut = [text for text in articles if is_clearly_english(text)]
    assert len(shortcut) >= 95  # the dev set is English news
    assert all(_identifier().classify(text)[0] == "en" for text in shortcut)
    fixtures = Path(__file__).parent / "fixtures" / "languages"
    for path in sorted(fixtures.glob("*.txt")):
        assert not is_clearly_english(path.read_text(encoding="utf-8")[:2000]), path.name
