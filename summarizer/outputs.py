"""Writers for summaries: JSONL (one record per article), Markdown and CSV.

Writers stream: each record is written and flushed as soon as it exists, so a run that dies keeps
everything finished before it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from summarizer.articles import Summary

FORMATS = ("jsonl", "md", "csv")
CSV_COLUMNS = ("id", "title", "url", "model", "bullets", "error", "path", "generate_s")


def format_for_path(path: str | None, default: str) -> str:
    if path:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in {"jsonl", "csv", "md"}:
            return suffix
        if suffix == "markdown":
            return "md"
    return default


class SummaryWriter:
    def __init__(self, stream: IO[str], fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format '{fmt}'; choose one of {', '.join(FORMATS)}")
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
            self._csv.writerow([
                summary.id, summary.title, summary.url or "", summary.model, "\n".join(summary.bullets),
                summary.error or "", summary.path, summary.timings.get("generate_s", ""),
            ])
        self.stream.flush()


def render_markdown(summary: Summary) -> str:
    heading = summary.title or summary.id
    lines = [f"## {heading}", ""]
    if summary.url:
        lines += [f"<{summary.url}>", ""]
    if summary.error:
        lines += [f"> **Error:** {summary.error}", ""]
    lines += [f"- {bullet}" for bullet in summary.bullets]
    lines += ["", f"*{summary.model}, {summary.path}, id `{summary.id}`*", "", ""]
    return "\n".join(lines)
