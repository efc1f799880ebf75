"""Plain-text and Markdown articles: one file, one article (seed format or plain text)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from summarizer.articles import Article, parse_seed_text
from summarizer.ingest.decode import DecodedText, UnreadableTextError, decode_bytes, length_problem

if TYPE_CHECKING:
    from summarizer.ingest import IngestOptions

logger = logging.getLogger(__name__)

# UTF-8 needs at most 4 bytes per character: a file larger than this cannot fit the character limit,
# so it is refused before being read into memory.
MAX_BYTES_PER_CHAR = 4


def error_article(article_id: str, message: str, source: str | None, **metadata: Any) -> Article:
    """An article that carries a problem instead of text, so the problem shows up in the output."""
    # Info, not warning: the error travels with the article and the pipeline reports it.
    logger.info("%s: %s", article_id, message)
    return Article(id=article_id, text="", source=source, error=message, metadata=metadata)


def record_encoding(article: Article, decoded: DecodedText) -> None:
    """Note a non-UTF-8 encoding (and the guess warning) in the article's metadata."""
    if decoded.encoding != "utf-8":
        article.metadata["encoding"] = decoded.encoding
    if decoded.warning:
        article.metadata.setdefault("warnings", []).append(decoded.warning)


def read_file_bytes(path: Path, max_chars: int | None = None) -> bytes:
    """The file's bytes; raises UnreadableTextError when unreadable or too big for ``max_chars``."""
    try:
        size = path.stat().st_size
        if max_chars is not None and size > max_chars * MAX_BYTES_PER_CHAR:
            raise UnreadableTextError(
                f"article too long: the file is {size:,} bytes, more than {max_chars:,} characters "
                "can take (raise the limit with --max-chars)"
            )
        return path.read_bytes()
    except OSError as error:
        raise UnreadableTextError(f"cannot read file: {error.strerror or error}") from None


def read_text_article(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """Yield the one article in a .txt/.md file; ``label`` is its path relative to the input."""
    article_id = PurePosixPath(label).with_suffix("").as_posix()
    source = str(path)
    try:
        data = read_file_bytes(path, max_chars=options.max_chars)
        decoded = decode_bytes(data)
    except UnreadableTextError as problem:
        yield error_article(article_id, str(problem), source)
        return
    if not decoded.text.strip():
        yield error_article(article_id, "file contains only whitespace", source)
        return
    if decoded.warning:
        logger.warning("%s: %s", path, decoded.warning)
    article = parse_seed_text(decoded.text, article_id, source=source)
    record_encoding(article, decoded)
    problem = length_problem(len(article.text), options.max_chars)
    if not article.text:
        problem = "no article text besides the 'Points of attention' block"
    if problem:
        article.error = problem
        article.text = ""
        logger.info("%s: %s", article_id, problem)
    yield article
