"""The evaluation harness end to end: predictions + references -> per-article rows, aggregates, files."""

import json

import pytest

from summarizer.cli.main import main
from summarizer.evaluation.harness import EvalConfig, Evaluator, load_predictions, load_references


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def small_dataset(tmp_path):
    references = write_jsonl(tmp_path / "refs.jsonl", [
        {"id": "a", "article": "The cat sat on the mat. It was warm.", "reference_bullets": ["The cat sat on the mat."],
         "references": ["The cat sat on the mat.", "A cat was sitting."]},
        {"id": "b", "article": "Rain fell in Paris on Monday.", "reference_bullets": ["Rain fell in Paris."]},
        {"id": "c", "article": "Nothing happened.", "reference_bullets": ["Nothing happened at all."]},
    ])
    predictions = write_jsonl(tmp_path / "preds.jsonl", [
        {"id": "a", "bullets": ["The cat sat on the mat."]},
        {"id": "b", "summary": "Rain fell in Paris on Monday."},
        {"id": "zzz", "bullets": ["Not in the references."]},
    ])
    return predictions, references


def test_per_article_scores_and_counts(small_dataset):
    predictions, references = small_dataset
    result = Evaluator(EvalConfig(bootstrap_resamples=200)).evaluate(
        load_predictions(predictions), load_references(references))
    rows = {row["id"]: row for row in result.per_article}
    assert rows["a"]["rouge1_f"] == 1.0 and rows["a"]["rougeLsum_f"] == 1.0
    # "Rain fell in Paris" vs "Rain fell in Paris on Monday": P = 4/6, R = 1 -> F = 0.8
    assert rows["b"]["rouge1_p"] == pytest.approx(4 / 6) and rows["b"]["rouge1_r"] == 1.0
    assert rows["b"]["rouge1_f"] == pytest.approx(0.8)
    assert rows["c"]["missing"] and rows["c"]["rouge1_f"] == 0.0  # missing prediction scores 0, counted
    assert result.counts == {"articles": 3, "missing_predictions": 1, "failed_predictions": 0,
                             "fallback_predictions": 0, "extra_predictions": 1}
    assert result.aggregates["rouge1_f"]["mean"] == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    assert result.config["rouge"]["mode"] == "rouge-score" and result.config["data_hash"]


def test_all_references_max_and_mean(small_dataset):
    predictions, references = small_dataset
    result = Evaluator(EvalConfig(references="all", bootstrap_resamples=100)).evaluate(
        load_predictions(predictions), load_references(references))
    row = next(r for r in result.per_article if r["id"] == "a")
    assert row["rouge1_f"] == 1.0  # max over the two references
    assert row["rouge1_f_mean"] < 1.0  # mean includes "A cat was sitting."


def test_cli_eval_writes_both_files(small_dataset, tmp_path, capsys):
    predictions, references = small_dataset
    out = tmp_path / "out"
    assert main(["eval", "--predictions", str(predictions), "--references", str(references), "--out", str(out),
                 "--resamples", "100"]) == 0
    rows = [json.loads(line) for line in (out / "per_article.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    for key in ("rouge1_p", "rouge1_r", "rouge1_f", "rouge2_f", "rougeL_f", "rougeLsum_f", "bullet_recall"):
        assert key in rows[0]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["metrics"]["rouge2_f"]) >= {"mean", "low", "high"}
    assert summary["config"]["bootstrap"]["seed"] == 0
    assert "rouge1_f" in capsys.readouterr().out


def test_seed_files_as_references(tmp_path, seed_file):
    bullets = ["North Korea will send troops."]
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": seed_file.stem, "bullets": bullets}])
    references = load_references(seed_file.parent)
    assert len(references[seed_file.stem].references[0]) == 5
    result = Evaluator(EvalConfig(bootstrap_resamples=50)).evaluate(load_predictions(predictions), references)
    assert 0 < result.per_article[0]["rouge1_f"] < 1


def test_unicode_tokenizer_scores_cyrillic(tmp_path):
    bullets = ["Северная Корея направит войска."]
    references = write_jsonl(tmp_path / "r.jsonl", [{"id": "x", "reference_bullets": bullets}])
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "x", "bullets": bullets}])
    # rouge-score's tokenizer, asked for explicitly (without a choice, "auto" switches to unicode).
    default = Evaluator(EvalConfig(tokenizer="default", bootstrap_resamples=10, faithfulness=False))
    unicode = Evaluator(EvalConfig(tokenizer="unicode", bootstrap_resamples=10, faithfulness=False))
    assert default.evaluate(load_predictions(predictions), load_references(references)).per_article[0]["rouge1_f"] == 0
    assert unicode.evaluate(load_predictions(predictions), load_references(references)).per_article[0]["rouge1_f"] == 1


def test_bad_predictions_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "bullets": []}\nnot json\n')
    refs = write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "reference_bullets": ["x y z."]}])
    assert main(["eval", "--predictions", str(bad), "--references", str(refs)]) == 2
    assert "bad.jsonl:2: invalid JSON" in capsys.readouterr().err


def test_lead_fallbacks_are_counted_and_reported(small_dataset, tmp_path, capsys):
    _, references = small_dataset
    predictions = write_jsonl(tmp_path / "run.jsonl", [
        {"id": "a", "bullets": ["The cat sat on the mat."], "path": "direct"},
        {"id": "b", "bullets": ["Rain fell in Paris on Monday."], "path": "direct+fallback-lead"},
        {"id": "c", "bullets": ["Nothing happened."], "path": "chunked+fallback-lead"},
    ])
    result = Evaluator(EvalConfig(bootstrap_resamples=50)).evaluate(
        load_predictions(predictions), load_references(references))
    rows = {row["id"]: row for row in result.per_article}
    assert result.counts["fallback_predictions"] == 2
    assert rows["b"]["fallback"] and "fallback" not in rows["a"]
    assert rows["b"]["rouge1_r"] == 1.0, "fallback bullets are still scored as written"

    assert main(["eval", "--predictions", str(predictions), "--references", str(references),
                 "--resamples", "50"]) == 0
    printed = capsys.readouterr().out
    assert "lead fallbacks 2" in printed and "note: 2 predictions are Lead sentences" in printed
