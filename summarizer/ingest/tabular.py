"""Record formats: JSON Lines, JSON and CSV files, one article per record.

``record_to_article`` maps one record (a dict) to an Article using the field names in IngestOptions;
the datasets reader uses it too. A bad record becomes an Article with ``error`` set and the stream
goes on with the next one.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from summarizer.articles import Article
from summarizer.ingest.decode import (
    DecodedText,
    UnreadableTextError,
    binary_problem,
    decode_bytes,
    length_problem,
)
from summarizer.ingest.files import error_article, read_file_bytes, record_encoding
from summarizer.text import normalize_whitespace, split_sentences

if TYPE_CHECKING:
    from summarizer.ingest import IngestOptions

logger = logging.getLogger(__name__)

# Fields kept whole in Article.metadata because the evaluation harness scores or correlates them.
EVALUATION_FIELDS = ("system_outputs", "human_scores")
# Other fields are kept in metadata["fields"] only when they are small scalars.
MAX_EXTRA_FIELD_CHARS = 1_000
REFERENCES_FIELD = "references"
PUBLISHED_FIELDS = ("published", "date")

# Without --text-field, the first of these that a record has holds the article text: "text" is ours,
# "article" is CNN/DailyMail's (and the dev set's), the others are common in scraped corpora.
TEXT_FIELDS = ("text", "article", "content", "body", "document")


def _field_name(explicit: str | None, default: str, record: Mapping[str, Any]) -> str | None:
    if explicit:
        return explicit
    return default if default in record else None


def parse_reference(value: Any) -> list[str] | None:
    """One reference as bullets: a list of bullet strings, or one string split into sentences.

    A string holding a JSON list (as CSV cells often do) is read as that list.
    """
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                return parse_reference(json.loads(stripped))
            except json.JSONDecodeError:
                pass
        return split_sentences(stripped)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    return None


def parse_references(value: Any) -> list[list[str]] | None:
    """Several references: a list whose items are each a reference (string or list of bullets)."""
    if isinstance(value, str):
        single = parse_reference(value)
        return [single] if single else None
    if not isinstance(value, (list, tuple)):
        return None
    references = [parse_reference(item) for item in value]
    if any(reference is None for reference in references):
        return None
    return [reference for reference in references if reference]


def _same_text(bullets: list[str], other: list[str]) -> bool:
    return normalize_whitespace(" ".join(bullets)) == normalize_whitespace(" ".join(other))


def _article_text(value: Any) -> str | None:
    if value is None:  # a missing CSV cell or a JSON null
        return ""
    if isinstance(value, str):
        return value.strip()
    # Some datasets store an article as a list of paragraphs or sentences.
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return "\n".join(item.strip() for item in value if item.strip())
    return None


def _extra_fields(record: Mapping[str, Any], used: set[str]) -> dict[str, Any]:
    extras = {}
    for key, value in record.items():
        if key in used or key in EVALUATION_FIELDS or not isinstance(key, str):
            continue
        if isinstance(value, (bool, int, float)) or (
            isinstance(value, str) and len(value) <= MAX_EXTRA_FIELD_CHARS
        ):
            extras[key] = value
    return extras


def record_to_article(
    record: Any, default_id: str, source: str, location: str, options: IngestOptions
) -> Article:
    """Map one record to an Article; ``location`` ("line 7", "row 3") prefixes error messages."""
    if not isinstance(record, Mapping):
        return error_article(
            default_id, f"{location}: expected an object with fields, got {type(record).__name__}", source
        )
    id_field = _field_name(options.id_field, "id", record)
    raw_id = record.get(id_field) if id_field else None
    article_id = str(raw_id).strip() if raw_id is not None and str(raw_id).strip() else default_id
    record_source = record.get("source")
    article = Article(
        id=article_id,
        text="",
        source=record_source if isinstance(record_source, str) and record_source.strip() else source,
    )
    title_field = _field_name(options.title_field, "title", record)
    url_field = _field_name(options.url_field, "url", record)
    published_field = next((name for name in PUBLISHED_FIELDS if name in record), None)
    if title_field and isinstance(record.get(title_field), str):
        article.title = record[title_field].strip()
    if url_field and isinstance(record.get(url_field), str):
        article.url = record[url_field].strip() or None
    if published_field and record.get(published_field) is not None:
        article.published = str(record[published_field])
    _fill_references(article, record, options, location)
    text_field = text_field_for(options.text_field, record)
    used = {name for name in (id_field, title_field, url_field, published_field, text_field) if name}
    reference_field = _field_name(options.reference_field, "reference_bullets", record)
    used |= {"source", REFERENCES_FIELD, reference_field or ""}
    article.metadata.update({name: record[name] for name in EVALUATION_FIELDS if name in record})
    extras = _extra_fields(record, used)
    if extras:
        article.metadata["fields"] = extras

    if text_field not in record:
        available = ", ".join(str(key) for key in record) or "none"
        return _fail(
            article,
            f"{location}: no {_described(options.text_field)} field (available fields: {available}); "
            "choose the text field with --text-field",
        )
    text = _article_text(record[text_field])
    if text is None:
        return _fail(
            article, f"{location}: field '{text_field}' holds {type(record[text_field]).__name__}, not text"
        )
    if not text:
        return _fail(article, f"{location}: empty text field '{text_field}'")
    problem = length_problem(len(text), options.max_chars)
    if problem:
        return _fail(article, f"{location}: {problem}")
    article.text = text
    return article


def _fail(article: Article, message: str) -> Article:
    logger.info("%s: %s", article.id, message)
    article.error = message
    article.text = ""
    return article


def _fill_references(
    article: Article, record: Mapping[str, Any], options: IngestOptions, location: str
) -> None:
    reference_field = _field_name(options.reference_field, "reference_bullets", record)
    bullets = None
    if reference_field and record.get(reference_field) is not None:
        bullets = parse_reference(record[reference_field])
        if bullets is None:
            _warn(article, f"{location}: field '{reference_field}' is not text or a list of bullets; ignored")
    references = None
    if record.get(REFERENCES_FIELD) is not None:
        references = parse_references(record[REFERENCES_FIELD])
        if references is None:
            _warn(article, f"{location}: field '{REFERENCES_FIELD}' is not a list of references; ignored")
    if bullets and references and _same_text(bullets, references[0]):
        # The explicit bullets are the authoritative split of the first reference; keep both views equal.
        references[0] = bullets
    article.reference_bullets = bullets or (references[0] if references else [])
    article.references = references or ([bullets] if bullets else [])


def _warn(article: Article, message: str) -> None:
    logger.warning("%s: %s", article.id, message)
    article.metadata.setdefault("warnings", []).append(message)


def _line_to_article(text: str, line_number: int, label: str, source: str, options: IngestOptions) -> Article:
    default_id = f"{label}:{line_number}"
    location = f"line {line_number}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return error_article(default_id, f"{location}: invalid JSON: {error}", source, line=line_number)
    article = record_to_article(record, default_id, source, location, options)
    article.metadata["line"] = line_number
    return article


def read_jsonl(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """Stream a JSON Lines file line by line, so large files need not fit in memory."""
    source = str(path)
    produced = 0
    try:
        with path.open("rb") as handle:
            head = handle.read(io.DEFAULT_BUFFER_SIZE)
            problem = "empty file" if not head else binary_problem(head)
            if problem:
                yield error_article(label, problem, source)
                return
            handle.seek(0)
            for line_number, raw_line in enumerate(handle, start=1):
                if not raw_line.strip():
                    continue
                produced += 1
                try:
                    decoded = decode_bytes(raw_line)
                except UnreadableTextError as problem:
                    yield error_article(
                        f"{label}:{line_number}", f"line {line_number}: {problem}", source, line=line_number
                    )
                    continue
                if decoded.warning:
                    logger.warning("%s line %d: %s", path, line_number, decoded.warning)
                article = _line_to_article(decoded.text, line_number, label, source, options)
                record_encoding(article, decoded)
                yield article
    except OSError as error:
        yield error_article(label, f"cannot read file: {error.strerror or error}", source)
        return
    if produced == 0:
        yield error_article(label, "file contains only whitespace", source)


def _read_whole_file(path: Path, label: str, source: str) -> tuple[DecodedText | None, Article | None]:
    """The decoded contents of a file, or an error article saying why there are none."""
    try:
        decoded = decode_bytes(read_file_bytes(path))
    except UnreadableTextError as problem:
        return None, error_article(label, str(problem), source)
    if not decoded.text.strip():
        return None, error_article(label, "file contains only whitespace", source)
    if decoded.warning:
        logger.warning("%s: %s", path, decoded.warning)
    return decoded, None


def _noting_encoding(articles: Iterator[Article], decoded: DecodedText) -> Iterator[Article]:
    for article in articles:
        record_encoding(article, decoded)
        yield article


def read_json(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """A JSON file holding one record or an array of records (JSON Lines saved as .json work too)."""
    source = str(path)
    decoded, failure = _read_whole_file(path, label, source)
    if failure:
        yield failure
        return
    yield from _noting_encoding(_json_articles(decoded.text, label, source, options), decoded)


def _json_articles(text: str, label: str, source: str, options: IngestOptions) -> Iterator[Article]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            yield error_article(label, f"invalid JSON: {error}", source)
            return
        # Several JSON values one after another: JSON Lines with a .json name.
        for line_number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield _line_to_article(line, line_number, label, source, options)
        return
    if isinstance(data, Mapping):
        article_id = PurePosixPath(label).with_suffix("").as_posix()
        yield record_to_article(data, article_id, source, "record", options)
        return
    if not isinstance(data, list) or not data:
        kind = "an empty array" if isinstance(data, list) else type(data).__name__
        yield error_article(label, f"expected a JSON object or an array of objects, got {kind}", source)
        return
    for number, record in enumerate(data, start=1):
        article = record_to_article(record, f"{label}:{number}", source, f"record {number}", options)
        article.metadata["record"] = number
        yield article


def _allow_large_fields() -> None:
    # The csv module refuses fields over 128 KiB by default; whole articles are longer than that.
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # C long is 32 bits on some platforms
            limit //= 2


def read_csv(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """A CSV file with a header row; each following row is one article.

    The whole file is decoded first: quoted fields may span lines, so it cannot be split safely before.
    """
    source = str(path)
    decoded, failure = _read_whole_file(path, label, source)
    if failure:
        yield failure
        return
    yield from _noting_encoding(_csv_articles(decoded.text, label, source, options), decoded)


def text_field_for(requested: str | None, fields: Iterable[str]) -> str:
    """The field holding the text: the one asked for, else the first of TEXT_FIELDS present."""
    if requested:
        return requested
    present = set(fields)
    return next((name for name in TEXT_FIELDS if name in present), TEXT_FIELDS[0])


def _described(requested: str | None) -> str:
    return f"'{requested}'" if requested else "text (looked for " + ", ".join(f"'{n}'" for n in TEXT_FIELDS) + ")"


def missing_text_column(label: str, text_field: str | None, columns: list[str], source: str) -> Article:
    """The error record for a table (CSV, dataset) without the text column the user named."""
    return error_article(
        label,
        f"no {_described(text_field)} column (columns: {', '.join(columns) or 'none'}); "
        "choose the text column with --text-field",
        source,
    )


def _csv_articles(text: str, label: str, source: str, options: IngestOptions) -> Iterator[Article]:
    _allow_large_fields()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = reader.fieldnames or []
    except csv.Error as error:
        yield error_article(label, f"cannot read the CSV header: {error}", source)
        return
    if text_field_for(options.text_field, columns) not in columns:
        yield missing_text_column(label, options.text_field, columns, source)
        return
    produced = 0
    rows = iter(reader)
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            yield error_article(f"{label}:{start_line}", f"line {start_line}: CSV error: {error}", source)
            if reader.line_num < start_line:
                break
            continue
        produced += 1
        article = record_to_article(row, f"{label}:{start_line}", source, f"line {start_line}", options)
        article.metadata["line"] = start_line
        yield article
    if produced == 0:
        yield error_article(label, "no rows after the header", source)
