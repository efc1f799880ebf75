"""Writers for summaries: JSONL (one record per article), Markdown and CSV.

Titles, URLs and bullets are untrusted: Markdown escapes them and links only http(s) URLs, CSV guards
cells a spreadsheet would run as formulas (see summarizer.escaping); JSONL keeps them as they are.

Writers stream: each record is written and flushed as soon as it exists, so a run that dies keeps
everything finished before it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from summarizer.articles import Summary
from summarizer.escaping import csv_cell, escape_markdown, link_url, markdown_code

TEXT_FORMATS = ("jsonl", "md", "csv")
FORMATS = (*TEXT_FORMATS, "parquet")
CSV_COLUMNS = ("id", "title", "url", "model", "bullets", "error", "path", "generate_s")


# Suffixes that name a format under another spelling.
SUFFIX_ALIASES = {"markdown": "md", "htm": "html"}


def format_for_path(path: str | Path | None, default: str, formats: tuple[str, ...] = FORMATS) -> str:
    """The format a file name asks for by its suffix, among ``formats``; ``default`` otherwise."""
    if not path:
        return default
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = SUFFIX_ALIASES.get(suffix, suffix)
    return suffix if suffix in formats else default


class SummaryWriter:
    def __init__(self, stream: IO[str], fmt: str):
        if fmt not in TEXT_FORMATS:
            raise ValueError(f"unknown text output format '{fmt}'; choose one of {', '.join(TEXT_FORMATS)}")
        self.stream = stream
        self.fmt = fmt
        self._csv = csv.writer(stream) if fmt == "csv" else None
        if self._csv:
            self._csv.writerow(CSV_COLUMNS)

    def write(self, summary: Summary) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(summary.to_record(), ensure_ascii=False) + "\n")
        elif self.fmt == "md":
            self.stream.write(render_markdown(summary))
        else:
            assert self._csv is not None
            text_cells = (summary.id, summary.title, summary.url or "", summary.model, "\n".join(summary.bullets),
                          summary.error or "", summary.path)
            self._csv.writerow([*map(csv_cell, text_cells), summary.timings.get("generate_s", "")])
        self.stream.flush()


@contextmanager
def open_writer(out: str | None, fmt: str) -> Iterator[SummaryWriter | ParquetSummaryWriter]:
    """A writer for ``fmt`` into file ``out`` (standard output when None; Parquet needs a file)."""
    if fmt == "parquet":
        if not out:
            raise ValueError("Parquet output needs --out FILE.parquet")
        with ParquetSummaryWriter(out) as writer:
            yield writer
        return
    if not out:
        yield SummaryWriter(sys.stdout, fmt)
        return
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as stream:
        yield SummaryWriter(stream, fmt)


def render_markdown(summary: Summary) -> str:
    """One article as Markdown; every string is escaped and only an http(s) URL becomes a link."""
    lines = [f"## {escape_markdown(summary.title or summary.id)}", ""]
    link = link_url(summary.url)
    if link:
        lines += [f"<{link}>", ""]
    elif summary.url:
        lines += [escape_markdown(summary.url), ""]
    if summary.error:
        lines += [f"> **Error:** {escape_markdown(summary.error)}", ""]
    lines += [f"- {escape_markdown(bullet)}" for bullet in summary.bullets]
    details = f"{escape_markdown(summary.model)}, {escape_markdown(summary.path)}, id {markdown_code(summary.id)}"
    lines += ["", f"*{details}*", "", ""]
    return "\n".join(lines)


PARQUET_COLUMNS = (
    "id", "title", "url", "model", "bullets", "error", "path", "n_chunks", "truncated_tokens", "generate_s",
    "source", "published", "raw_output", "reference_bullets",
)


class ParquetSummaryWriter:
    """Summaries into a Parquet file, one row per article, written in row groups as they arrive.

    Same ``write(summary)`` interface as summarizer.outputs.SummaryWriter; call ``close()`` at the end
    (or use it as a context manager). Columns: PARQUET_COLUMNS; bullets are a list of strings.
    """

    def __init__(self, path: str | Path, row_group_size: int = 256):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as missing:
            raise ImportError("Parquet output needs pyarrow: pip install pyarrow") from missing
        self._pa = pa
        self.schema = pa.schema([
            ("id", pa.string()), ("title", pa.string()), ("url", pa.string()), ("model", pa.string()),
            ("bullets", pa.list_(pa.string())), ("error", pa.string()), ("path", pa.string()),
            ("n_chunks", pa.int32()), ("truncated_tokens", pa.int32()), ("generate_s", pa.float64()),
            ("source", pa.string()), ("published", pa.string()), ("raw_output", pa.string()),
            ("reference_bullets", pa.list_(pa.string())),
        ])
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(str(path), self.schema)
        self._rows: list[dict[str, Any]] = []
        self.row_group_size = row_group_size

    def write(self, summary: Summary) -> None:
        record = {name: getattr(summary, name, None) for name in PARQUET_COLUMNS}
        record["generate_s"] = summary.timings.get("generate_s")
        self._rows.append(record)
        if len(self._rows) >= self.row_group_size:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def __enter__(self) -> ParquetSummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
