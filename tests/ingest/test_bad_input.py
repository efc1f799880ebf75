"""Bad input never crashes the stream and is never dropped: each problem is an Article with an error."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from summarizer.ingest import IngestOptions, load_articles
from summarizer.ingest.decode import UnreadableTextError, decode_bytes


def load(*inputs: Path, **options) -> list:
    return list(load_articles([str(item) for item in inputs], IngestOptions(**options)))


def load_one(path: Path, **options):
    [article] = load(path, **options)
    return article


def binary_bytes() -> bytes:
    return b"\x00\x01\x02" + os.urandom(2_000) + b"\x00" * 16


def assert_error(article, expected: str, article_id: str) -> None:
    assert article.error is not None and expected in article.error, article.error
    assert article.text == ""
    assert article.id == article_id


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert_error(load_one(path), "empty file", "empty")


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n   \n", encoding="utf-8")
    assert_error(load_one(path), "only whitespace", "blank")


def test_binary_file(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(binary_bytes())
    assert_error(load_one(path), "looks like a binary file", "photo")


def test_known_binary_format_is_named(tmp_path):
    path = tmp_path / "paper.txt"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert_error(load_one(path), "binary file (a PDF document)", "paper")


def test_latin1_file_is_decoded_with_a_warning(tmp_path):
    path = tmp_path / "cafe.txt"
    path.write_bytes(
        "Le café du coin a fermé. Les habitués regrettent déjà leur crème brûlée.".encode("latin-1")
    )
    article = load_one(path)
    assert article.error is None
    assert "café" in article.text and "brûlée" in article.text
    assert article.metadata["encoding"] == "cp1252"
    assert any("not valid UTF-8" in warning for warning in article.metadata["warnings"])


def test_cp1252_punctuation_is_decoded(tmp_path):
    path = tmp_path / "quotes.txt"
    path.write_bytes("He said “no” – twice… It cost 5 €.".encode("cp1252"))
    article = load_one(path)
    assert article.text == "He said “no” – twice… It cost 5 €."


def test_implausible_non_utf8_bytes_are_an_error_naming_the_byte(tmp_path):
    path = tmp_path / "cyrillic.txt"
    # Ukrainian in cp1251 reads as a wall of accented Latin letters in cp1252: not plausible text.
    path.write_bytes("Північна Корея відправить інженерні війська на Донбас".encode("cp1251"))
    article = load_one(path)
    assert_error(article, "not valid UTF-8 (byte 0x", "cyrillic")
    assert re.search(r"byte 0x[0-9a-f]{2} at offset \d+\); nor does it read as plausible", article.error)
    assert "re-save it as UTF-8" in article.error


def test_damaged_utf8_is_an_error_not_mojibake(tmp_path):
    path = tmp_path / "damaged.txt"
    path.write_bytes("Crème brûlée à la carte. ".encode() * 3 + b"\xff broken")
    article = load_one(path)
    assert_error(article, "not valid UTF-8 (byte 0xff at offset", "damaged")
    assert "damaged bytes" in article.error


def test_five_megabyte_article_is_refused_with_its_size(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text("word " * 1_000_000, encoding="utf-8")
    article = load_one(path)
    assert_error(article, "article too long", "huge")
    assert "5,000,000 bytes" in article.error and "1,000,000" in article.error
    assert "--max-chars" in article.error


def test_article_over_max_chars_but_small_file_gives_character_count(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 1_000, encoding="utf-8")
    article = load_one(path, max_chars=2_000)
    assert_error(article, "4,999 characters, over the limit of 2,000 characters", "long")
    assert load_one(path, max_chars=10_000).error is None


def test_seed_block_without_article_text(tmp_path):
    path = tmp_path / "bullets_only.txt"
    path.write_text("Points of attention\n- One point.\n- Another point.\n", encoding="utf-8")
    assert_error(load_one(path), "no article text", "bullets_only")


def test_jsonl_bad_lines_become_errors_and_the_rest_is_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "ok1", "text": "Fine article."}),
        json.dumps({"id": "no-text", "summary_text": "Wrong field.", "title": "T"}),
        json.dumps({"id": "empty", "text": "   "}),
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "long", "text": "x" * 50}),
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": "ok2", "text": "Another fine article."}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles = load(path, max_chars=40)
    assert [article.id for article in articles] == [
        "ok1",
        "no-text",
        "empty",
        "mixed.jsonl:5",
        "long",
        "mixed.jsonl:7",
        "ok2",
    ]
    ok1, no_text, empty, not_object, long, broken, ok2 = articles
    assert ok1.error is None and ok2.error is None
    assert no_text.error == (
        "line 2: no text (looked for 'text', 'article', 'content', 'body', 'document') field (available fields: "
        "id, summary_text, title); choose the text field with --text-field"
    )
    assert no_text.title == "T"
    assert empty.error == "line 3: empty text field 'text'"
    assert not_object.error == "line 5: expected an object with fields, got list"
    assert long.error.startswith("line 6: article too long: 50 characters")
    assert broken.error.startswith("line 7: invalid JSON: ")
    assert broken.metadata["line"] == 7


def test_jsonl_line_with_undecodable_bytes(tmp_path):
    path = tmp_path / "bytes.jsonl"
    good = json.dumps({"id": "good", "text": "Fine."}).encode()
    latin = json.dumps({"id": "latin", "text": "Café crème."}, ensure_ascii=False).encode("latin-1")
    path.write_bytes(good + b"\n" + latin + b"\n" + b'{"id": "bad", "text": "\x81\x8d\x90"}\n')
    good_article, latin_article, bad_article = load(path)
    assert good_article.error is None
    assert latin_article.text == "Café crème." and latin_article.metadata["encoding"] == "cp1252"
    assert_error(bad_article, "line 3: not valid UTF-8 (byte 0x81 at offset 23)", "bytes.jsonl:3")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "empty file"), (b"\n \n\n", "only whitespace"), (binary_bytes(), "looks like a binary file")],
)
def test_bad_jsonl_files(tmp_path, content, expected):
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    assert_error(load_one(path), expected, "data.jsonl")


def test_csv_without_the_text_column_names_the_columns(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("id,headline,story\n1,H,Some story.\n2,H2,More story.\n", encoding="utf-8")
    article = load_one(path)
    assert_error(article, "no text (looked for 'text', 'article', 'content', 'body', 'document') column "
                          "(columns: id, headline, story)", "table.csv")
    assert "--text-field" in article.error


def test_csv_empty_cells_and_header_only(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("id,text\nr1,\nr2,Real text.\nr3\n", encoding="utf-8")
    r1, r2, r3 = load(rows)
    assert_error(r1, "line 2: empty text field 'text'", "r1")
    assert r2.error is None
    assert_error(r3, "line 4: empty text field 'text'", "r3")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,text\n", encoding="utf-8")
    assert_error(load_one(header_only), "no rows after the header", "header.csv")


def test_directory_of_bad_files_keeps_every_problem(tmp_path):
    (tmp_path / "a_empty.txt").write_bytes(b"")
    (tmp_path / "b_binary.md").write_bytes(binary_bytes())
    (tmp_path / "c_good.txt").write_text("A good article.", encoding="utf-8")
    (tmp_path / "d_bad.json").write_text("{not json", encoding="utf-8")
    articles = load(tmp_path)
    assert [article.id for article in articles] == ["a_empty", "b_binary", "c_good", "d_bad.json"]
    assert [article.error is None for article in articles] == [False, False, True, False]
    assert articles[3].error.startswith("invalid JSON")


def test_decode_bytes_handles_byte_order_marks():
    assert decode_bytes("\ufeffBOM text".encode()).text == "BOM text"
    decoded = decode_bytes("Texte en UTF-16.".encode("utf-16"))
    assert (decoded.text, decoded.encoding) == ("Texte en UTF-16.", "utf-16")


def test_decode_bytes_refuses_control_character_soup():
    rng = random.Random(7)
    soup = bytes(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 65, 66]) for _ in range(1_000))
    with pytest.raises(UnreadableTextError, match="control characters"):
        decode_bytes(soup)


def test_csv_in_windows_1252_records_the_encoding_on_every_row(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes("id,text\nr1,Le café est fermé.\nr2,Déjà vu.\n".encode("cp1252"))
    r1, r2 = load(path)
    assert (r1.text, r2.text) == ("Le café est fermé.", "Déjà vu.")
    assert r1.metadata["encoding"] == r2.metadata["encoding"] == "cp1252"
