"""The explorer in report.html: alignment, markings, safe embedding, and what headless Chromium shows."""

import json
import re
import subprocess
from collections import Counter
from urllib.parse import quote

import pytest

from summarizer.cli.main import main
from summarizer.evaluation.explorer import Aligner, embed_json, marked_segments
from summarizer.evaluation.tokenize import DefaultTokenizer
from tests.browser import CHROMIUM_TIMEOUT_S, FLAGS, chromium_or_skip
from tests.conftest import shared_data_file

MODELS = ["lead-3", "points", "textrank"]


def test_bullets_are_aligned_to_their_source_sentences():
    aligner = Aligner(DefaultTokenizer(use_stemmer=True))
    sentences = ["The mayor opened a new bridge on Monday.", "It cost 40 million dollars.",
                 "Residents welcomed the shorter commute."]
    counts = [Counter(aligner.tokenize(s)) for s in sentences]
    assert aligner.sources(counts, "A new bridge was opened by the mayor.") == [0]
    assert aligner.sources(counts, "Weather was sunny.") == []
    assert aligner.reference_matches(["Bridge cost 40 million.", "Mayor opened bridge."],
                                     ["The mayor opened a bridge.", "It cost 40 million."]) == [1, 0]


def test_novel_words_and_unsupported_claims_are_marked():
    segments = marked_segments("Mayor Smith spent 90 million on roads.", {"mayor", "spent", "on", "roads", "smith"},
                               ["90"])
    kinds = {text: kind for text, kind in segments if text.strip()}
    assert kinds["90"] == "unsupported" and kinds["million"] == "novel" and kinds["Mayor"] == ""
    assert "".join(text for text, _ in segments) == "Mayor Smith spent 90 million on roads."


def test_embedded_json_cannot_close_its_script_block():
    embedded = embed_json({"text": "</script><script>alert(1)</script>"})
    assert "</" not in embedded and "<" not in embedded
    assert json.loads(embedded)["text"] == "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("explorer")
    assert main(["compare", "--models", *MODELS, "--dataset", str(shared_data_file("summeval_cnndm100.jsonl")),
                 "--out", str(out), "--resamples", "50", "--no-published"]) == 0
    return out / "report.html"


def test_report_embeds_every_article_and_system(report):
    page = report.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page,
                                re.S).group(1))
    assert data["systems"] == MODELS and len(data["articles"]) == 100
    article = data["articles"][0]
    assert article["sentences"] and article["reference"]
    lead = article["systems"]["lead-3"]["bullets"]
    # Lead-3 copies the opening sentences (it may skip a fragment the splitter keeps, hence "near the top").
    firsts = [b["sources"][0] for b in lead]
    assert firsts[0] == 0 and firsts == sorted(firsts) and max(firsts) < 6
    assert "rouge2_f" in article["systems"]["textrank"]["scores"]


def chromium_dom(url: str, profile) -> str:
    command = [chromium_or_skip(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", "--virtual-time-budget=5000",
               url]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S).stdout


@pytest.mark.slow
def test_headless_chromium_selects_an_article_and_shows_both_models(report, tmp_path):
    page = report.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="explorer-data">(.*?)</script>', page, re.S).group(1))
    article_id = data["articles"][7]["id"]
    url = report.as_uri() + "#" + "&".join(f"{k}={quote(v)}" for k, v in
                                           (("article", article_id), ("a", "lead-3"), ("b", "textrank"),
                                            ("metric", "rouge2_f")))
    dom = chromium_dom(url, tmp_path / "profile")
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert f'data-explorer-article="{article_id}"' in body
    assert int(re.search(r'data-explorer-highlighted="(\d+)"', body).group(1)) >= 3
    assert int(re.search(r'data-explorer-bullets-a="(\d+)"', body).group(1)) >= 1
    assert int(re.search(r'data-explorer-bullets-b="(\d+)"', body).group(1)) >= 1
    assert 'class="sentence src-' in dom or 'class="sentence src' in dom
    assert "lead-3 (" in dom and "textrank (" in dom
    assert dom.count("<tr") >= 10  # the list of articles where the two differ most (and the other tables)
