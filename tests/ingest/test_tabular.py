"""JSON Lines, JSON and CSV records -> Articles, including the SummEval dev file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from summarizer.ingest import IngestOptions, load_articles
from summarizer.ingest.tabular import parse_reference, parse_references


def load(*inputs: Path, **options) -> list:
    return list(load_articles([str(item) for item in inputs], IngestOptions(**options)))


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_summeval_dev_file_with_article_text_field(summeval_path):
    articles = load(summeval_path, text_field="article")
    assert len(articles) == 100
    assert all(article.error is None for article in articles)
    assert all(article.text and article.reference_bullets for article in articles)
    assert all(len(article.references) == 11 for article in articles)
    # The first reference is the same split as the explicit reference bullets.
    assert all(article.references[0] == article.reference_bullets for article in articles)
    first = articles[0]
    assert first.id.startswith("summeval-")
    assert first.text.startswith("Paul Merson has restarted his row with Andros Townsend")
    assert isinstance(first.metadata["system_outputs"], dict) and first.metadata["system_outputs"]
    assert first.metadata["line"] == 1


def test_jsonl_defaults_for_id_title_url_and_references(tmp_path):
    path = write_jsonl(
        tmp_path / "news.jsonl",
        [
            {
                "id": 17,
                "title": "Headline",
                "url": "https://example.com/a",
                "text": "Body one.",
                "reference_bullets": ["First point.", "Second point."],
                "category": "politics",
            },
            {"text": "Body two.", "reference_bullets": "One sentence. Another sentence."},
        ],
    )
    first, second = load(path)
    assert (first.id, first.title, first.url, first.text) == (
        "17",
        "Headline",
        "https://example.com/a",
        "Body one.",
    )
    assert first.reference_bullets == ["First point.", "Second point."]
    assert first.references == [["First point.", "Second point."]]
    assert first.metadata["fields"] == {"category": "politics"}
    assert first.source == str(path)
    assert second.id == "news.jsonl:2"
    assert second.reference_bullets == ["One sentence.", "Another sentence."]


def test_jsonl_field_mapping(tmp_path):
    path = write_jsonl(
        tmp_path / "mapped.jsonl",
        [
            {
                "doc_id": "d1",
                "headline": "H",
                "body": "The body.",
                "link": "https://x.test",
                "summary": "S one. S two.",
            }
        ],
    )
    [article] = load(
        path,
        text_field="body",
        id_field="doc_id",
        title_field="headline",
        url_field="link",
        reference_field="summary",
    )
    assert (article.id, article.title, article.url, article.text) == (
        "d1",
        "H",
        "https://x.test",
        "The body.",
    )
    assert article.reference_bullets == ["S one.", "S two."]


def test_references_only_fill_reference_bullets_with_the_first(tmp_path):
    path = write_jsonl(
        tmp_path / "refs.jsonl",
        [
            {"text": "Body.", "references": ["Ref one first. Ref one second.", "Ref two."]},
            {"text": "Body.", "references": [["Bullet A.", "Bullet B."], ["Bullet C."]]},
        ],
    )
    strings, lists = load(path)
    assert strings.references == [["Ref one first.", "Ref one second."], ["Ref two."]]
    assert strings.reference_bullets == ["Ref one first.", "Ref one second."]
    assert lists.references == [["Bullet A.", "Bullet B."], ["Bullet C."]]
    assert lists.reference_bullets == ["Bullet A.", "Bullet B."]


def test_reference_parsing_helpers():
    assert parse_reference(["  a. ", "", "b."]) == ["a.", "b."]
    assert parse_reference('["x.", "y."]') == ["x.", "y."]
    assert parse_reference({"not": "a reference"}) is None
    assert parse_references("Only one. Reference.") == [["Only one.", "Reference."]]
    assert parse_references([1, 2]) is None


def test_json_array_and_single_object(tmp_path):
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"text": "One."}, {"id": "b", "text": "Two."}]), encoding="utf-8")
    single = tmp_path / "single.json"
    single.write_text(json.dumps({"text": "Only one."}), encoding="utf-8")
    lines = tmp_path / "lines.json"
    write_jsonl(lines, [{"text": "L1."}, {"text": "L2."}])
    ids = [article.id for article in load(array, single, lines)]
    assert ids == ["array.json:1", "b", "single", "lines.json:1", "lines.json:2"]


def test_csv_with_column_mapping_and_a_huge_field(tmp_path):
    path = tmp_path / "articles.csv"
    long_text = "A long sentence in a big cell. " * 10_000  # over csv's default 128 KiB field limit
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "headline", "body", "highlights"])
        writer.writerow(["k1", "First", "Multi-line\nbody text.", "Point one.\nPoint two."])
        writer.writerow(["k2", "Second", long_text, ""])
    first, second = load(
        path, text_field="body", id_field="key", title_field="headline", reference_field="highlights"
    )
    assert (first.id, first.title, first.text) == ("k1", "First", "Multi-line\nbody text.")
    assert first.reference_bullets == ["Point one.", "Point two."]
    assert first.metadata["line"] == 2
    assert second.id == "k2" and second.error is None
    assert second.text == long_text.strip()
    assert second.reference_bullets == []


def test_csv_default_ids_name_the_line(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text('text\n"Quoted\nover two lines."\nNext.\n', encoding="utf-8")
    first, second = load(path)
    assert first.id == "plain.csv:2"
    assert second.id == "plain.csv:4"


def test_text_field_defaults_to_the_first_known_field_present(tmp_path):
    """Without --text-field, "text" is read, else "article" (CNN/DailyMail's name), so `run`, `eval` and
    `compare` read the same files with their defaults."""
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "a", "text": "Text field wins here."}\n'
                    '{"id": "b", "article": "Article field is used here.", "text_x": "no"}\n'
                    '{"id": "c", "headline": "none of them"}\n', encoding="utf-8")
    articles = list(load_articles([str(path)], IngestOptions()))
    assert [a.text for a in articles[:2]] == ["Text field wins here.", "Article field is used here."]
    assert "no text (looked for 'text', 'article'" in articles[2].error
