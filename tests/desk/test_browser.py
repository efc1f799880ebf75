"""The desk in headless Chromium (Debian's chromium, as the other browser tests): the list, search, and
the article page's highlighting of supporting sentences, done by the page's own script."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import dump_dom, screenshot

pytestmark = pytest.mark.slow
# Set to a path (e.g. docs/img/desk-article.png) to keep the article page's screenshot for the docs.
SCREENSHOT_COPY_ENV = "SUMMARIZER_DESK_SCREENSHOT"


def test_desk_lists_the_articles(desk, tmp_path):
    dom = dump_dom(desk.base + "/", tmp_path / "profile")
    titles = re.findall(r'<h3><a href="/articles/[0-9a-f]{64}">([^<]+)</a></h3>', dom)
    assert len(titles) == 5 and "Harbor City opens its first offshore wind terminal" in titles
    assert "5 articles; page 1 of 1" in dom


def test_search_finds_an_article_by_a_word_of_its_text(desk, tmp_path):
    # "quay" occurs only in the wind terminal article's text.
    dom = dump_dom(desk.base + "/?q=quay", tmp_path / "profile")
    titles = re.findall(r'<h3><a href="/articles/[0-9a-f]{64}">([^<]+)</a></h3>', dom)
    assert titles == ["Harbor City opens its first offshore wind terminal"]
    assert "1 article matching" in dom


def test_article_page_highlights_supporting_sentences(desk, tmp_path):
    with desk.client() as client:
        article = client.get("/api/articles", params={"q": "night bus"}).json()["articles"][0]
        evidence = client.get(f"/api/articles/{article['id']}").json()["evidence"]
    url = f"{desk.base}/articles/{article['id']}?bullet=1"
    dom = dump_dom(url, tmp_path / "profile")
    highlighted = [int(index) for index in re.findall(r'class="sentence supporting" id="sentence-(\d+)"', dom)]
    assert highlighted == sorted(evidence["bullets"][1]["support"]) and highlighted
    assert re.search(r'<li id="bullet-1" class="bullet active"', dom)
    assert 'class="sentence supporting" id="sentence-0"' not in dom  # bullet 0's sentence stays plain

    png = screenshot(url, tmp_path / "desk-article.png", tmp_path / "profile-shot", size="1100,640")
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    target = os.environ.get(SCREENSHOT_COPY_ENV)
    if target:
        shutil.copyfile(tmp_path / "desk-article.png", Path(target))
