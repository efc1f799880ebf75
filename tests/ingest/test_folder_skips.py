"""Issue 37.11: every file in a folder yields a record, or a visible, counted skip in the run's summary."""

from __future__ import annotations

import pytest

from summarizer.ingest import IngestOptions, load_articles

STORY = "The council approved the new budget on Monday. Taxes will rise by two percent next year."


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a-story.txt").write_text(STORY, encoding="utf-8")
    (folder / "notes").write_text(STORY, encoding="utf-8")  # extensionless text: an article
    (folder / "empty").write_bytes(b"")
    (folder / "blank").write_text("  \n\t \n", encoding="utf-8")
    (folder / "binary").write_bytes(bytes(range(256)) * 4)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    return folder


def test_folder_extensionless_files_are_articles_or_error_records(mixed_folder):
    options = IngestOptions()
    articles = {article.id: article for article in load_articles([str(mixed_folder)], options)}
    assert sorted(articles) == ["a-story", "binary", "blank", "empty", "notes"]
    assert articles["notes"].error is None and articles["notes"].text.startswith("The council")
    assert "empty file" in articles["empty"].error
    assert "whitespace" in articles["blank"].error
    assert "binary" in articles["binary"].error
    assert options.skipped_files == [".DS_Store", "photo.jpg"]


def test_folder_skips_are_counted_in_the_run_summary_line(mixed_folder, tmp_path, capsys):
    from summarizer.cli.main import main

    status = main(["run", str(mixed_folder), "--model", "lead-3", "--out", str(tmp_path / "out.jsonl")])
    assert status == 1  # the empty, blank and binary files are failed records
    stderr = capsys.readouterr().err
    assert "summarized 2/5 articles" in stderr
    assert "skipped 2 files (hidden or of an unsupported type): .DS_Store, photo.jpg" in stderr
