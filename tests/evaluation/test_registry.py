"""The metric registry: a family added through it alone shows up in `eval` and in `compare`'s leaderboard."""

import json

import pytest

from summarizer.cli.main import main
from summarizer.evaluation.harness import EvalConfig, Evaluator, load_predictions, load_references
from summarizer.evaluation.registry import (
    ArticleInput,
    Column,
    MetricFamily,
    display_scale,
    get_metric,
    metric_names,
    register_metric,
    resolve_metric_names,
    unregister_metric,
)


class WordLength:
    """The toy metric: words in the summary."""

    def __init__(self, context):
        self.context = context

    def score(self, item: ArticleInput) -> dict[str, float]:
        return {"length_words": float(sum(len(bullet.split()) for bullet in item.bullets))}

    def describe(self) -> dict:
        return {"unit": "whitespace-separated words"}


@pytest.fixture
def length_metric():
    family = register_metric(MetricFamily(name="length", description="summary length in words",
                                          needs=frozenset(), headline=(Column("length_words", "words"),),
                                          create=WordLength))
    yield family
    unregister_metric("length")


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def tiny_dataset(tmp_path):
    return write_jsonl(tmp_path / "tiny.jsonl", [
        {"id": "a", "article": "The cat sat on the mat. It was warm. Dogs barked.",
         "reference_bullets": ["The cat sat on the mat."]},
        {"id": "b", "article": "Rain fell in Paris on Monday. Streets flooded. Trains stopped.",
         "reference_bullets": ["Rain fell in Paris."]},
    ])


def test_length_metric_shows_up_in_eval_output(length_metric, tiny_dataset, tmp_path, capsys):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "bullets": ["The cat sat.", "It was warm."]},
                                                     {"id": "b", "bullets": ["Rain fell in Paris on Monday."]}])
    out = tmp_path / "out"
    assert main(["eval", "--predictions", str(predictions), "--references", str(tiny_dataset),
                 "--metrics", "rouge", "length", "--resamples", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    line = next(line for line in printed.splitlines() if line.startswith("length_words"))
    assert line.split()[1] == "6.00"  # (6 + 6) / 2 words
    rows = [json.loads(line) for line in (out / "per_article.jsonl").read_text().splitlines()]
    assert [row["length_words"] for row in rows] == [6.0, 6.0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["metric_families"] == ["rouge", "length"]
    assert summary["config"]["metrics"]["length"]["scorer"] == {"unit": "whitespace-separated words"}


def test_length_metric_shows_up_in_compare_leaderboard(length_metric, tiny_dataset, tmp_path, capsys):
    out = tmp_path / "compare"
    assert main(["compare", "--models", "lead-3", "--dataset", str(tiny_dataset), "--out", str(out),
                 "--no-published", "--resamples", "20"]) == 0
    markdown = (out / "leaderboard.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| system"))
    assert "| words |" in header and "| R-2 |" in header
    payload = json.loads((out / "leaderboard.json").read_text())
    assert payload["systems"][0]["metrics"]["length_words"]["mean"] > 0
    assert "length_words" in (out / "leaderboard.csv").read_text().splitlines()[0]


def test_registry_lists_builtins_and_rejects_unknown_or_duplicate(length_metric):
    assert metric_names()[:4] == ["rouge", "bullets", "faithfulness", "semantic"]
    assert "length" in metric_names()
    assert "semantic" not in resolve_metric_names(None)  # loads a model: opt-in
    assert resolve_metric_names(["length", "rouge", "rouge"]) == ["rouge", "length"]
    with pytest.raises(KeyError, match="unknown metric family 'nope'"):
        get_metric("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_metric(length_metric)
    assert display_scale("rouge2_f") == 100 and display_scale("rouge2_f_mean") == 100
    assert display_scale("redundancy_mean") == 1


def test_family_needing_the_article_is_skipped_without_one(tmp_path):
    references = write_jsonl(tmp_path / "r.jsonl", [{"id": "x", "reference_bullets": ["A cat sat."]}])
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "x", "bullets": ["A cat sat."]}])
    result = Evaluator(EvalConfig(bootstrap_resamples=10)).evaluate(
        load_predictions(predictions), load_references(references))
    row = result.per_article[0]
    assert row["rouge1_f"] == 1.0 and "unsupported_per_bullet" not in row


def test_leaderboard_quotes_how_far_to_trust_each_column(tiny_dataset, tmp_path):
    meta = tmp_path / "meta_eval.json"
    cell = {"system_kendall": {"value": 0.58, "low": 0.11, "high": 0.82}}
    meta.write_text(json.dumps({"config": {"dataset": "summeval.jsonl", "documents": 100, "systems": ["a"] * 16,
                                           "dimensions": ["relevance"]},
                                "correlations": {"rouge1_f": {"relevance": cell}}}))
    out = tmp_path / "compare"
    assert main(["compare", "--models", "lead-3", "--dataset", str(tiny_dataset), "--out", str(out),
                 "--no-published", "--resamples", "20", "--meta-eval", str(meta)]) == 0
    markdown = (out / "leaderboard.md").read_text()
    assert "How far to trust each column" in markdown and "| R-1 | 0.58 [0.11, 0.82] |" in markdown
    assert "meta_eval.md" in markdown
    page = (out / "report.html").read_text()
    assert 'id="trust"' in page and page.count('id="leaderboard"') == 1
