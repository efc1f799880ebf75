"""meta-eval: correlations with human scores, joint bootstrap intervals, paired tests, the three files."""

import json

import numpy as np
import pytest

from summarizer.cli.main import main
from summarizer.evaluation.meta_eval import (
    MetaEvalSettings,
    correlation_table,
    correlations,
    permutation_test,
)
from summarizer.evaluation.registry import Column, MetricFamily, register_metric, unregister_metric

# Two seeds give different bootstrap draws; with 2,000 resamples the Monte Carlo error of a 2.5% / 97.5%
# quantile of a correlation over 12 systems is about 0.01-0.02, so endpoints from two seeds must agree
# within 0.06 (loose enough never to flake, tight enough to catch a bootstrap that ignores its draws).
SEED_TOLERANCE = 0.06


def synthetic(n_systems=12, n_documents=40, noise=0.5, seed=3):
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=n_systems)[:, None] + 0.5 * rng.normal(size=(n_systems, n_documents))
    human = quality + noise * rng.normal(size=quality.shape)
    metric = quality + noise * rng.normal(size=quality.shape)
    return metric, human[:, :, None]


def test_perfect_metric_correlates_one_at_every_level():
    _, human = synthetic()
    values = correlations(human[None, :, :, 0], human[None, :, :, 0])
    for level in ("system_kendall", "summary_kendall", "summary_spearman"):
        assert values[level][0] == pytest.approx(1.0)


def test_seeded_intervals_are_reproducible_and_stable_across_seeds():
    metric, human = synthetic()
    tables = []
    for seed in (0, 0, 1):
        settings = MetaEvalSettings(resamples=2000, seed=seed)
        tables.append(correlation_table({"m": metric}, human, ["quality"], settings)[0]["m"]["quality"])
    assert tables[0] == tables[1]  # same seed, same numbers
    for level in ("system_kendall", "summary_kendall", "summary_spearman"):
        first, other = tables[0][level], tables[2][level]
        assert first["low"] <= first["value"] <= first["high"]
        assert abs(first["low"] - other["low"]) < SEED_TOLERANCE
        assert abs(first["high"] - other["high"]) < SEED_TOLERANCE


def test_permutation_test_tells_a_good_metric_from_noise():
    metric, human = synthetic(noise=0.2)
    noise = np.random.default_rng(9).normal(size=metric.shape)
    assert permutation_test(metric, noise, human[:, :, 0], "system_kendall", 500, seed=0) < 0.01
    # A metric against itself: no difference to find.
    assert permutation_test(metric, metric, human[:, :, 0], "summary_kendall", 200, seed=0) == 1.0


class WordCount:
    def __init__(self, context):
        pass

    def score(self, item):
        return {"length_words": float(sum(len(b.split()) for b in item.bullets))}

    def describe(self):
        return {}


@pytest.fixture
def length_family():
    register_metric(MetricFamily("length", "words", frozenset(), (Column("length_words", "words"),), WordCount))
    yield
    unregister_metric("length")


def test_meta_eval_command_writes_json_markdown_and_html(tmp_path, length_family, capsys):
    records = []
    for doc in range(5):
        outputs = {f"S{s}": " ".join(["word"] * (s + 1 + doc % 2)) + " ." for s in range(4)}
        # Humans prefer longer summaries here, so the toy length metric agrees with them perfectly.
        human = {f"S{s}": {"relevance": 1.0 + s, "coherence": 4.0 - s} for s in range(4)}
        records.append({"id": f"d{doc}", "article": "word " * 30, "references": ["word word word ."],
                        "system_outputs": outputs, "human_scores": human})
    dataset = tmp_path / "meta.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["meta-eval", "--dataset", str(dataset), "--out", str(out), "--metrics", "rouge", "length",
                 "--resamples", "50", "--permutations", "50"]) == 0
    report = json.loads((out / "meta_eval.json").read_text())
    cell = report["correlations"]["length_words"]
    assert cell["relevance"]["system_kendall"]["value"] == pytest.approx(1.0)
    assert cell["coherence"]["system_kendall"]["value"] == pytest.approx(-1.0)
    assert report["config"]["systems"] == ["S0", "S1", "S2", "S3"]
    assert report["config"]["bootstrap"]["resamples"] == 50 and report["paired_tests"]
    markdown = (out / "meta_eval.md").read_text()
    assert "| length_words |" in markdown and "system-level Kendall τ" in markdown
    page = (out / "meta_eval.html").read_text()
    assert page.count('class="heat"') == 3 * 2 * 5  # levels x dimensions x (4 ROUGE keys + length)


def test_meta_eval_on_a_dataset_without_human_scores_is_a_clear_error(tmp_path, capsys):
    dataset = tmp_path / "plain.jsonl"
    dataset.write_text(json.dumps({"id": "a", "reference_bullets": ["x ."]}) + "\n", encoding="utf-8")
    assert main(["meta-eval", "--dataset", str(dataset), "--out", str(tmp_path / "o")]) == 2
    assert "no record has both 'system_outputs' and 'human_scores'" in capsys.readouterr().err


class NeverAnswers:
    """A metric whose every value is missing (a judge whose answers never parse)."""

    def __init__(self, context):
        pass

    def score(self, item):
        return {}

    def describe(self):
        return {}


def test_a_metric_with_no_value_is_a_row_of_missing_values_not_zeros(tmp_path, capsys):
    register_metric(MetricFamily("silent", "never answers", frozenset(), (Column("silent_score", "silent"),),
                                 NeverAnswers))
    try:
        records = [{"id": f"d{doc}", "article": "word " * 10, "references": ["word ."],
                    "system_outputs": {f"S{s}": "word " * (s + 1) for s in range(3)},
                    "human_scores": {f"S{s}": {"relevance": float(s)} for s in range(3)}} for doc in range(3)]
        dataset = tmp_path / "meta.jsonl"
        dataset.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        out = tmp_path / "out"
        assert main(["meta-eval", "--dataset", str(dataset), "--out", str(out), "--metrics", "rouge", "silent",
                     "--resamples", "20", "--permutations", "20"]) == 0
    finally:
        unregister_metric("silent")
    report = json.loads((out / "meta_eval.json").read_text())
    assert report["correlations"]["silent_score"]["relevance"]["system_kendall"]["value"] is None
    assert report["missing_values"]["silent_score"] == {"S0": 3, "S1": 3, "S2": 3}
    assert "| silent_score | — | — |" not in (out / "meta_eval.md").read_text()  # one dimension: one cell
    assert "| silent_score | — |" in (out / "meta_eval.md").read_text()
