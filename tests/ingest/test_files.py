"""Text and Markdown files, directories, and the input dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.ingest import IngestOptions, InputError, load_articles, open_input

SEED_TITLE = "North Korea will send engineering troops to Donbas already in July"


def load(*inputs: Path | str, **options) -> list:
    return list(load_articles([str(item) for item in inputs], IngestOptions(**options)))


def test_seed_file_gives_bullets_title_and_text_without_bullets(seed_file):
    [article] = load(seed_file)
    assert article.error is None
    assert article.id == "000_42f52d1283be1841"
    assert article.title == SEED_TITLE
    assert len(article.reference_bullets) == 5
    assert article.references == [article.reference_bullets]
    assert article.source == str(seed_file)
    for bullet in article.reference_bullets:
        assert bullet not in article.text
    assert "Institute for the Study of War" in article.text


def test_plain_text_file_is_one_article_named_after_the_file(tmp_path):
    path = tmp_path / "budget-vote.txt"
    path.write_text(
        "Parliament passes budget\n\nThe vote was close. It passed on Tuesday.\n", encoding="utf-8"
    )
    [article] = load(path)
    assert article.error is None
    assert article.id == "budget-vote"
    assert article.title == "Parliament passes budget"
    assert "The vote was close." in article.text
    assert article.reference_bullets == []


def test_markdown_file_is_read_like_text(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Heading\n\nSome **bold** news text.", encoding="utf-8")
    [article] = load(path)
    assert article.error is None
    assert "Some **bold** news text." in article.text


def test_windows_newlines_are_normalized(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Title line\r\nFirst sentence. Second sentence.\r\n")
    [article] = load(path)
    assert "\r" not in article.text
    assert article.text == "Title line\nFirst sentence. Second sentence."


def test_non_english_article_is_ingested_as_is(tmp_path):
    text = "Північна Корея відправить інженерні війська на Донбас уже в липні. Про це повідомляє ISW."
    path = tmp_path / "uk.txt"
    path.write_text(text, encoding="utf-8")
    [article] = load(path)
    assert article.error is None
    assert article.text == text
    assert "encoding" not in article.metadata


def test_directory_is_walked_in_sorted_order_with_relative_ids(tmp_path):
    (tmp_path / "b.txt").write_text("Second article text.", encoding="utf-8")
    (tmp_path / "a.md").write_text("First article text.", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.txt").write_text("Nested article text.", encoding="utf-8")
    (tmp_path / "records.jsonl").write_text('{"id": "r1", "text": "A record."}\n', encoding="utf-8")
    (tmp_path / "table.csv").write_text("id,text\nc1,A row.\n", encoding="utf-8")
    (tmp_path / "notes.pdfx").write_text("not an article", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("editor swap file", encoding="utf-8")
    ids = [article.id for article in load(tmp_path)]
    assert ids == ["a", "b", "nested/c", "r1", "c1"]


def test_limit_stops_after_n_articles_across_inputs(tmp_path):
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.txt").write_text(f"Article {name}.", encoding="utf-8")
    assert len(load(tmp_path, limit=2)) == 2
    assert len(load(tmp_path / "one.txt", tmp_path / "two.txt", limit=5)) == 2


def test_missing_input_raises_a_clear_value_error(tmp_path):
    with pytest.raises(ValueError, match="no such file or directory"):
        load_articles([str(tmp_path / "missing.txt")], IngestOptions())


def test_unknown_file_type_raises_and_lists_supported_types(tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(b"whatever")
    with pytest.raises(InputError, match=r"unsupported input type '\.docx'.*\.jsonl"):
        open_input(str(path), IngestOptions())


def test_url_with_unsupported_scheme_is_refused_clearly():
    with pytest.raises(ValueError, match="not supported as inputs"):
        open_input("ftp://example.com/news/article.txt", IngestOptions())


def test_empty_directory_raises(tmp_path):
    with pytest.raises(InputError, match="no readable inputs"):
        open_input(str(tmp_path), IngestOptions())


def test_options_are_validated():
    with pytest.raises(ValueError, match="max_chars"):
        IngestOptions(max_chars=0)
    with pytest.raises(ValueError, match="limit"):
        IngestOptions(limit=-1)
