"""The grounding check: generated bullets the article does not support are dropped, never edited."""

from __future__ import annotations

import pytest

from summarizer.grounding import ground_text, grounded_bullets, judge_bullets

ARTICLE = (
    "North Korea will send engineering troops to the occupied territories of Donetsk region in July. "
    "If it sends three or four brigades, North Korea can receive up to 115 million dollars from Russia "
    "every year, the Institute for the Study of War reported."
)


def test_supported_bullets_are_kept_as_written():
    bullets = ["North Korea will send engineering troops to Donetsk in July.",
               "North Korea can receive up to 115 million dollars a year from Russia."]
    assert grounded_bullets(bullets, ARTICLE) == bullets


def test_an_invented_number_drops_the_bullet():
    [verdict] = judge_bullets(["North Korea will send 5,000 engineering troops to Donetsk."], ARTICLE)
    assert verdict.kept is False
    assert verdict.unsupported == ("5,000",)


def test_an_invented_name_drops_the_bullet():
    [verdict] = judge_bullets(["Kim Jong Un will visit Donetsk in July."], ARTICLE)
    assert verdict.kept is False
    assert "Kim Jong Un" in verdict.unsupported


def test_a_bullet_about_something_else_drops_for_lack_of_content_support():
    [verdict] = judge_bullets(["The weather was sunny and the harvest was excellent this year."], ARTICLE)
    assert verdict.unsupported == ()
    assert verdict.content_support < 0.6
    assert verdict.kept is False


def test_inflected_words_count_as_supported():
    # "sending" and "brigade" have the Porter stems of "sends" and "brigades".
    [verdict] = judge_bullets(["North Korea is sending a brigade to Donetsk."], ARTICLE)
    assert verdict.content_support == pytest.approx(1.0)


def test_the_threshold_is_adjustable():
    bullet = "North Korea will send troops and tanks and artillery to Donetsk."
    assert grounded_bullets([bullet], ARTICLE, min_content_support=0.9) == []
    assert grounded_bullets([bullet], ARTICLE, min_content_support=0.5) == [bullet]


def test_ground_text_filters_lines_and_prose():
    raw = "- North Korea will send engineering troops to Donetsk.\n- Kim Jong Un will visit Donetsk."
    assert ground_text(raw, ARTICLE) == "- North Korea will send engineering troops to Donetsk."
    prose = "North Korea will send engineering troops to Donetsk. The harvest was excellent this year."
    assert ground_text(prose, ARTICLE) == "North Korea will send engineering troops to Donetsk."
    assert ground_text("", ARTICLE) == ""


def test_list_numbers_are_not_claims():
    raw = "1. North Korea will send engineering troops to Donetsk.\n2. Kim Jong Un will visit Donetsk."
    assert ground_text(raw, ARTICLE) == "1. North Korea will send engineering troops to Donetsk."
