"""`summarizer run` end to end through the real CLI: formats, exit status, bad input in a batch."""

import csv
import json

import pytest

from summarizer.cli.main import main

GOOD = ("The city council approved a new budget on Monday after a long debate. Taxes will rise by two percent "
        "next year. The mayor said the money will pay for new schools and roads. Critics said the plan was rushed.")


def read_records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def mixed_inputs(tmp_path):
    """One directory holding good articles and every kind of bad input the issue names."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("   \n\t\n  ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "latin1.txt").write_bytes(("Le café de la gare a rouvert lundi après deux ans de travaux. "
                                         "Les habitants étaient nombreux à la fête.").encode("latin-1"))
    (folder / "huge.txt").write_text("word " * 1_100_000, encoding="utf-8")  # 5.5 MB
    (folder / "russian.txt").write_text(
        "Городской совет утвердил новый бюджет в понедельник. Налоги вырастут на два процента. "
        "Мэр заявил, что деньги пойдут на школы и дороги.", encoding="utf-8")
    (folder / "records.jsonl").write_text(
        json.dumps({"id": "j1", "text": GOOD}) + "\n" + "{not json at all\n" + json.dumps({"id": "j3", "text": GOOD})
        + "\n", encoding="utf-8")
    return folder


def test_bad_inputs_reported_per_article_and_batch_goes_on(mixed_inputs, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    code = main(["run", str(mixed_inputs), "--model", "lead-3", "--bullets", "3", "--out", str(out)])
    assert code == 1  # some articles failed
    records = {r["id"]: r for r in read_records(out)}
    errors = {key: r["error"] for key, r in records.items() if r["error"]}
    # the good ones, the decodable latin-1 file, the Russian article and the valid JSONL lines are summarized
    for key in ("good", "latin1", "russian", "j1", "j3"):
        assert records[key]["bullets"] and not records[key]["error"], key
    assert records["latin1"]["bullets"][0].startswith("Le café de la gare")
    assert records["russian"]["bullets"][0].startswith("Городской совет")
    assert errors["empty"] == "empty file"
    assert "whitespace" in errors["blank"]
    assert "binary" in errors["binary"]
    assert "5,500,000 bytes" in errors["huge"] and "--max-chars" in errors["huge"]
    assert "line 2: invalid JSON" in errors["records.jsonl:2"]
    assert len(records) == 10 and len(errors) == 5
    report = capsys.readouterr().err
    assert f"{len(errors)} failed" in report and "empty" in report


def test_all_good_exits_zero_and_formats(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(GOOD, encoding="utf-8")
    for fmt in ("jsonl", "md", "csv"):
        out = tmp_path / f"out.{fmt}"
        assert main(["run", str(source), "--model", "lead-3", "--bullets", "2", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert "The city council approved a new budget on Monday after a long debate." in text
    (record,) = read_records(tmp_path / "out.jsonl")
    assert set(record) >= {"id", "title", "url", "bullets", "model", "timings", "error", "path"}
    assert record["bullets"] == ["The city council approved a new budget on Monday after a long debate.",
                                 "Taxes will rise by two percent next year."]
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["id"] == "a" and row["model"] == "lead-3"


def test_missing_input_is_an_error_record_not_a_crash(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(tmp_path / "nope.txt"), str(good), "--model", "lead-3", "--out", str(out)]) == 1
    records = read_records(out)
    assert records[0]["error"] and "nope.txt" in records[0]["error"]
    assert records[1]["bullets"]


def test_unknown_model_and_hub_model_fail_fast(tmp_path, capsys):
    good = tmp_path / "a.txt"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["run", str(good), "--model", "no-such-model"]) == 2
    assert "Unknown model 'no-such-model'" in capsys.readouterr().err
    assert main(["run", str(good), "--model", "facebook/bart-large-cnn"]) == 2
    err = capsys.readouterr().err
    assert "facebook/bart-large-cnn" in err and "HF_HUB_OFFLINE" in err and "local model directory" in err


def test_default_model_from_config(tmp_path, capsys):
    good = tmp_path / "a.txt"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["run", str(good), "--format", "jsonl", "--bullets", "2"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    from summarizer.config import load_config

    assert record["model"] == load_config().model
