"""Bad evaluation inputs get a clear answer (issue 37, items 12 and 13)."""

import json

from summarizer.cli.main import main
from summarizer.evaluation.harness import load_references


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def references_file(tmp_path):
    return write_jsonl(tmp_path / "refs.jsonl", [
        {"id": f"doc{i}", "article": "The cat sat on the mat.", "reference_bullets": ["The cat sat on the mat."]}
        for i in range(4)])


def test_37_12_no_matching_ids_is_an_error(tmp_path, capsys):
    references = references_file(tmp_path)
    predictions = write_jsonl(tmp_path / "preds.jsonl", [
        {"id": f"other{i}", "bullets": ["The cat sat on the mat."]} for i in range(4)])
    assert main(["eval", "--predictions", str(predictions), "--references", str(references)]) == 2
    err = capsys.readouterr().err
    assert "preds.jsonl" in err and "refs.jsonl" in err
    assert "other0" in err and "doc0" in err  # example ids from both sides


def test_37_12_partial_matches_are_reported_and_strict_fails(tmp_path, capsys):
    references = references_file(tmp_path)
    predictions = write_jsonl(tmp_path / "preds.jsonl", [
        {"id": "doc0", "bullets": ["The cat sat on the mat."]},
        {"id": "doc1", "bullets": ["The cat sat."]},
        {"id": "stray", "bullets": ["Unrelated."]}])
    arguments = ["eval", "--predictions", str(predictions), "--references", str(references), "--resamples", "10"]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    report = captured.out + captured.err
    assert "2 of 4 references have no prediction" in report and "doc2" in report
    assert "1 prediction has no reference" in report and "stray" in report
    assert main([*arguments, "--strict"]) == 1


def test_37_13_references_as_one_string_are_one_reference(tmp_path):
    path = write_jsonl(tmp_path / "refs.jsonl", [
        {"id": "a", "article": "x", "references": "The cat sat on the mat. It was warm."}])
    item = load_references(path)["a"]
    assert item.references == [["The cat sat on the mat.", "It was warm."]]


def test_37_13_string_reference_scores_like_a_list(tmp_path, capsys):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "bullets": ["The cat sat on the mat."]}])
    as_string = write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "references": "The cat sat on the mat."}])
    assert main(["eval", "--predictions", str(predictions), "--references", str(as_string), "--metrics", "rouge",
                 "--resamples", "10"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("rouge1_f"))
    assert line.split()[1] == "100.00"
