"""`summarizer run`: the language of each article on its record, mixed batches in the summary line,
and --language for generative models."""

from __future__ import annotations

import json
from pathlib import Path

from summarizer.cli.main import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "languages"


def test_records_carry_the_language_and_a_mixed_batch_says_so(tmp_path, capsys, seed_file):
    out = tmp_path / "out.jsonl"
    assert main(["run", str(FIXTURES / "uk.txt"), str(FIXTURES / "de.txt"), str(seed_file), "--model", "lead-3",
                 "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [record["language"] for record in records] == ["uk", "de", "en"]
    assert "languages: " in capsys.readouterr().err


def test_one_language_batch_has_no_language_note(tmp_path, capsys, seed_file):
    assert main(["run", str(seed_file), "--model", "lead-3", "--out", str(tmp_path / "out.jsonl")]) == 0
    assert "languages:" not in capsys.readouterr().err


def test_language_option_is_checked_and_explained_for_extractive_models(tmp_path, capsys, seed_file):
    assert main(["run", str(seed_file), "--model", "lead-3", "--language", "English"]) == 2
    assert "ISO 639-1" in capsys.readouterr().err
    assert main(["run", str(FIXTURES / "uk.txt"), "--model", "lead-3", "--language", "en",
                 "--out", str(tmp_path / "out.jsonl")]) == 0
    assert "applies to generative models" in capsys.readouterr().err
