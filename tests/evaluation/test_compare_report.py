"""`summarizer compare` on the SummEval dev set: five files, significance vs Lead-3, plots that render."""

import csv
import json
import re
import shutil

import pytest

from summarizer.cli.main import main
from tests.browser import dump_dom, screenshot
from tests.conftest import shared_data_file

OFFLINE_MODELS = ["lead-3", "lead-5", "textrank", "lexrank"]


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    dataset = shared_data_file("summeval_cnndm100.jsonl")
    out = tmp_path_factory.mktemp("compare")
    code = main(["compare", "--models", *OFFLINE_MODELS, "--dataset", str(dataset), "--bullets", "3",
                 "--out", str(out), "--resamples", "200"])
    assert code == 0
    return out


def test_writes_all_five_files(comparison_dir):
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "report.html"):
        assert (comparison_dir / name).stat().st_size > 0
    predictions = list((comparison_dir / "predictions").glob("*.jsonl"))
    assert len(predictions) == len(OFFLINE_MODELS)


def test_leaderboard_has_models_baseline_intervals_and_p_values(comparison_dir):
    payload = json.loads((comparison_dir / "leaderboard.json").read_text())
    systems = {s["name"]: s for s in payload["systems"]}
    assert set(OFFLINE_MODELS) <= set(systems)
    assert {f"M{i}" for i in (0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 17, 20, 22, 23)} <= set(systems)
    assert payload["baseline"] == "lead-3"
    assert systems["lead-3"]["significance_vs_baseline"] == {}
    textrank = systems["textrank"]
    rouge2 = textrank["metrics"]["rouge2_f"]
    assert rouge2["low"] <= rouge2["mean"] <= rouge2["high"]
    test = textrank["significance_vs_baseline"]["rouge2_f"]
    assert 0 < test["p_permutation"] <= 1 and test["low"] <= test["diff"] <= test["high"]
    assert systems["lead-3"]["run"]["articles_per_s"] > 0
    with open(comparison_dir / "leaderboard.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"system", "rouge2_f", "rouge2_f_low", "rouge2_f_high", "rouge2_f_p_vs_baseline"} <= set(rows[0])
    markdown = (comparison_dir / "leaderboard.md").read_text()
    assert "| lead-3 | model |" in markdown and "against the baseline **lead-3**" in markdown


def test_cached_predictions_are_reused(comparison_dir, tmp_path):
    rerun = tmp_path / "rerun"
    shutil.copytree(comparison_dir / "predictions", rerun / "predictions")
    before = {p.name: p.read_bytes() for p in (rerun / "predictions").iterdir()}
    assert main(["compare", "--models", "lead-3", "--dataset", str(shared_data_file("summeval_cnndm100.jsonl")),
                 "--bullets", "3", "--out", str(rerun), "--no-published", "--resamples", "50"]) == 0
    after = {p.name: p.read_bytes() for p in (rerun / "predictions").iterdir()}
    assert before == after  # nothing re-run, nothing added
    systems = json.loads((rerun / "leaderboard.json").read_text())["systems"]
    assert systems[0]["run"]["cached"] is True


@pytest.mark.slow
def test_report_plots_render_in_headless_chromium(comparison_dir, tmp_path):
    page = comparison_dir / "report.html"
    png = screenshot(page, tmp_path / "report.png", tmp_path / "profile", size="1300,2400")
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    dom = dump_dom(page, tmp_path / "profile")
    body = re.search(r"<body[^>]*>", dom).group(0)
    plots = int(re.search(r'data-plots="(\d+)"', body).group(1))
    rendered = int(re.search(r'data-plots-rendered="(\d+)"', body).group(1))
    marks = int(re.search(r'data-marks-rendered="(\d+)"', body).group(1))
    assert plots == rendered == 3  # metric bars, per-article scatter, throughput
    # bars for 3 metrics x 20 systems, 100 scatter points, 4 throughput bars
    assert marks >= 3 * 20 + 100 + 4
    assert "Significance against the baseline (lead-3)" in dom
