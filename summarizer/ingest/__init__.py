"""Sources -> Article stream.

An input is a file (``.txt``/``.md`` article, ``.jsonl``/``.json``/``.csv`` records, ``.parquet``), a
directory (walked in sorted order; folders written by ``Dataset.save_to_disk`` are read as datasets), or a
prefixed name such as ``hf:NAME[:CONFIG]`` for a Hugging Face Hub dataset. A new kind of source is one
entry in FILE_READERS (by suffix) or PREFIX_OPENERS (by prefix).

Problems with an input's *contents* (empty file, binary bytes, an invalid JSON line...) become Articles
with ``error`` set, so they are reported next to the other results instead of stopping the run or being
dropped. Problems with the *input itself* (no such path, unknown type, unreachable dataset) raise
ValueError when the input is opened, before any article is read.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from summarizer.articles import Article
from summarizer.ingest.files import read_text_article
from summarizer.ingest.hf_datasets import (
    HUB_PREFIX,
    DatasetUnavailableError,
    is_saved_dataset,
    open_hub_dataset,
    read_parquet,
    read_saved_dataset,
)
from summarizer.ingest.tabular import read_csv, read_json, read_jsonl

__all__ = [
    "FILE_READERS",
    "PREFIX_OPENERS",
    "DatasetUnavailableError",
    "IngestOptions",
    "InputError",
    "format_skipped",
    "load_articles",
    "open_input",
]

logger = logging.getLogger(__name__)


@dataclass
class IngestOptions:
    # Field (JSONL/JSON/CSV key, dataset column) holding the article text; None = the first of
    # tabular.TEXT_FIELDS that the record has ("text", then "article", as in CNN/DailyMail, …).
    text_field: str | None = None
    # Defaults: "id" if present, else "<file>:<line>" ("<file>:<row>" for datasets).
    id_field: str | None = None
    # Default: "title" if present.
    title_field: str | None = None
    # Default: "reference_bullets" if present; a list of bullets or one string split into sentences.
    reference_field: str | None = None
    # Default: "url" if present.
    url_field: str | None = None
    dataset_config: str | None = None
    dataset_split: str = "test"
    # Longer articles get an error instead of text: one huge input should not stall a whole batch.
    max_chars: int = 1_000_000
    # Stop after this many articles (error articles included); None reads everything.
    limit: int | None = None
    # Fetch from loopback and private addresses too (intranet feeds); None reads
    # SUMMARIZER_ALLOW_PRIVATE_HOSTS. Link-local addresses stay refused (docs/security.md).
    allow_private_hosts: bool | None = None
    # Filled while directories are walked: what was not read (hidden, or of an unsupported type),
    # relative to its directory, so that the run can report it next to its results.
    skipped_files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.max_chars <= 0:
            raise ValueError(f"max_chars must be positive, got {self.max_chars}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be zero or more, got {self.limit}")


class InputError(ValueError):
    """An input that cannot be opened at all (missing, or of an unsupported type)."""


# (path, label, options) -> articles; label is the path relative to the input, used to build ids.
FileReader = Callable[[Path, str, IngestOptions], Iterator[Article]]
# (input string, options) -> articles; may raise ValueError at once (e.g. an unreachable hub).
PrefixOpener = Callable[[str, IngestOptions], Iterator[Article]]


# Feeds and web pages need the HTTP client (httpx), a noticeable share of a short run's start-up: it is
# imported only when a feed file or a URL is actually read.
def read_feed_file(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    from summarizer.ingest import feeds

    return feeds.read_feed_file(path, label, options)


def open_url(spec: str, options: IngestOptions) -> Iterator[Article]:
    from summarizer.ingest import feeds

    return feeds.open_url(spec, options)


FILE_READERS: Mapping[str, FileReader] = MappingProxyType(
    {
        ".txt": read_text_article,
        ".md": read_text_article,
        ".jsonl": read_jsonl,
        ".json": read_json,
        ".csv": read_csv,
        ".parquet": read_parquet,
        ".xml": read_feed_file,
        ".rss": read_feed_file,
        ".atom": read_feed_file,
    }
)
PREFIX_OPENERS: Mapping[str, PrefixOpener] = MappingProxyType(
    {HUB_PREFIX: open_hub_dataset, "http://": open_url, "https://": open_url}
)


def _supported_inputs() -> str:
    suffixes = ", ".join(FILE_READERS)
    prefixes = ", ".join(f"{prefix}NAME" for prefix in PREFIX_OPENERS)
    return f"{suffixes} files, directories, save_to_disk dataset folders, {prefixes}"


def format_skipped(skipped: list[str], shown: int = 10) -> str:
    """The run summary's line for files of input directories that were not read."""
    names = ", ".join(skipped[:shown]) + (f" and {len(skipped) - shown} more" if len(skipped) > shown else "")
    noun = "file" if len(skipped) == 1 else "files"
    return f"skipped {len(skipped)} {noun} (hidden or of an unsupported type): {names}"


def _directory_readers(root: Path, skipped: list[str]) -> list[tuple[str, Path, FileReader]]:
    """(label, path, reader) for every readable entry under ``root``, sorted by relative path; what is
    not read is appended to ``skipped``.

    A file without a suffix is read as a text article (an empty or binary one becomes an error record):
    notes saved without an extension are articles far more often than anything else.
    """
    entries: list[tuple[str, Path, FileReader]] = []
    skipped_here: list[str] = []
    # os.walk does not follow directory symlinks, so a link loop cannot make the walk endless.
    for current, dirnames, filenames in os.walk(root):
        current_path = Path(current)
        for dirname in list(dirnames):
            if dirname.startswith("."):
                dirnames.remove(dirname)
                skipped_here.append((current_path / dirname).relative_to(root).as_posix() + "/")
            elif is_saved_dataset(current_path / dirname):
                dirnames.remove(dirname)
                path = current_path / dirname
                entries.append((path.relative_to(root).as_posix(), path, read_saved_dataset))
        for filename in filenames:
            path = current_path / filename
            label = path.relative_to(root).as_posix()
            reader = None if filename.startswith(".") else FILE_READERS.get(path.suffix.lower(), _no_suffix(path))
            if reader is None:
                skipped_here.append(label)
                continue
            entries.append((label, path, reader))
    if skipped_here:
        skipped_here.sort(key=lambda label: PurePosixPath(label).parts)
        logger.info("%s: %s", root, format_skipped(skipped_here))
        skipped.extend(skipped_here)
    return sorted(entries, key=lambda entry: PurePosixPath(entry[0]).parts)


def _no_suffix(path: Path) -> FileReader | None:
    return read_text_article if not path.suffix else None


def _directory_articles(
    entries: list[tuple[str, Path, FileReader]], options: IngestOptions
) -> Iterator[Article]:
    for label, path, reader in entries:
        yield from reader(path, label, options)


def open_input(spec: str, options: IngestOptions) -> Iterator[Article]:
    """Open one input; raises InputError/DatasetUnavailableError (both ValueError) if it cannot be read."""
    for prefix, opener in PREFIX_OPENERS.items():
        if spec.startswith(prefix):
            return opener(spec, options)
    path = Path(spec).expanduser()
    if path.is_dir():
        if is_saved_dataset(path):
            return read_saved_dataset(path, path.name, options)
        entries = _directory_readers(path, options.skipped_files)
        if not entries:
            raise InputError(f"'{spec}': directory has no readable inputs (supported: {_supported_inputs()})")
        return _directory_articles(entries, options)
    if path.is_file():
        reader = FILE_READERS.get(path.suffix.lower())
        if reader is None:
            kind = path.suffix or path.name
            raise InputError(f"'{spec}': unsupported input type '{kind}' (supported: {_supported_inputs()})")
        return reader(path, path.name, options)
    if "://" in spec:
        raise InputError(
            f"'{spec}': URLs of this kind are not supported as inputs; save the article as a .txt file"
        )
    raise InputError(f"'{spec}': no such file or directory")


def load_articles(inputs: list[str], options: IngestOptions | None = None) -> Iterator[Article]:
    """Articles from every input in order, at most ``options.limit`` of them.

    Every input is opened before the first article is produced, so a missing path or an unreachable
    dataset raises ValueError at once; callers that want to go on with the other inputs open them one
    at a time with ``open_input``.
    """
    options = options or IngestOptions()
    streams = [open_input(spec, options) for spec in inputs]
    articles = itertools.chain.from_iterable(streams)
    if options.limit is not None:
        return itertools.islice(articles, options.limit)
    return articles
