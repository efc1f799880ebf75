"""Hugging Face datasets: hub datasets (``hf:NAME`` / ``hf:NAME:CONFIG``), Parquet files and folders
written by ``Dataset.save_to_disk``.

``datasets.load_dataset`` retries an unreachable hub for ~25 s before failing. Hub names are therefore
checked first (offline mode and local cache, then a short reachability probe) and refused at once with
a message that says how to work offline.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.articles import Article
from summarizer.hub import hub_offline_mode, hub_reachable
from summarizer.ingest.files import error_article
from summarizer.ingest.tabular import missing_text_column, record_to_article, text_field_for

if TYPE_CHECKING:
    from summarizer.ingest import IngestOptions

HUB_PREFIX = "hf:"
# Written by Dataset.save_to_disk / DatasetDict.save_to_disk.
SAVED_DATASET_MARKERS = ("state.json", "dataset_dict.json")
PARQUET_BATCH_ROWS = 256


class DatasetUnavailableError(ValueError):
    """A dataset input cannot be loaded; the message says what to do instead."""


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in SAVED_DATASET_MARKERS)


def datasets_offline_mode() -> bool:
    flag = os.environ.get("HF_DATASETS_OFFLINE", "").strip().lower()
    return hub_offline_mode() or flag in {"1", "true", "yes", "on"}


def offline_help() -> str:
    return (
        "To run offline, pass local files instead (.jsonl, .csv, .parquet, or a folder written by "
        "Dataset.save_to_disk), or load the dataset once where the hub is reachable so it sits in the "
        "`datasets` cache (HF_HOME, default ~/.cache/huggingface) and run with HF_HUB_OFFLINE=1."
    )


def cached_copies(name: str) -> list[Path]:
    """Local cache folders that hold (part of) hub dataset ``name``."""
    from datasets import config as datasets_config
    from huggingface_hub import constants as hub_constants

    candidates = [
        Path(hub_constants.HF_HUB_CACHE) / f"datasets--{name.replace('/', '--')}",
        Path(datasets_config.HF_DATASETS_CACHE) / name.replace("/", "___"),
    ]
    return [path for path in candidates if path.is_dir()]


def parse_hub_input(spec: str, options: IngestOptions) -> tuple[str, str | None]:
    """``hf:NAME`` or ``hf:NAME:CONFIG`` -> (name, config); the spec's config beats --dataset-config."""
    name, _, config = spec[len(HUB_PREFIX) :].partition(":")
    name = name.strip()
    if not name:
        raise DatasetUnavailableError(f"'{spec}': no dataset name (use hf:NAME or hf:NAME:CONFIG)")
    return name, config.strip() or options.dataset_config


def check_hub_dataset(name: str) -> None:
    """Raise DatasetUnavailableError at once when hub dataset ``name`` cannot be loaded from here."""
    if Path(name).expanduser().exists():
        return
    cached = cached_copies(name)
    if datasets_offline_mode():
        if not cached:
            raise DatasetUnavailableError(
                f"Dataset '{name}' is not in the local cache and offline mode is on "
                "(HF_HUB_OFFLINE / HF_DATASETS_OFFLINE). " + offline_help()
            )
        return
    if hub_reachable():
        return
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    message = f"Dataset '{name}' cannot be loaded: the Hugging Face Hub ({endpoint}) cannot be reached. "
    if cached:
        message += f"A cached copy exists ({cached[0]}): run with HF_HUB_OFFLINE=1 to use it."
    else:
        message += offline_help()
    raise DatasetUnavailableError(message)


def open_hub_dataset(spec: str, options: IngestOptions) -> Iterator[Article]:
    """Check the dataset now (fail fast), load it when the articles are iterated."""
    name, config = parse_hub_input(spec, options)
    check_hub_dataset(name)
    return _hub_dataset_articles(spec, name, config, options)


def _hub_dataset_articles(
    spec: str, name: str, config: str | None, options: IngestOptions
) -> Iterator[Article]:
    import datasets

    split = options.dataset_split
    described = f"'{name}'" + (f" (config '{config}')" if config else "") + f", split '{split}'"
    local_path = Path(name).expanduser()
    try:
        dataset = datasets.load_dataset(str(local_path) if local_path.exists() else name, config, split=split)
    except Exception as error:  # datasets raises many types here (hub, file, split and config errors)
        raise DatasetUnavailableError(f"Cannot load dataset {described}: {error}") from error
    yield from dataset_articles(dataset, list(dataset.column_names), f"{name}:{split}", spec, options)


def dataset_articles(
    rows: Iterable[Mapping[str, Any]], columns: list[str], label: str, source: str, options: IngestOptions
) -> Iterator[Article]:
    """Articles from dataset rows; ids default to ``<label>:<row index>``."""
    text_field = text_field_for(options.text_field, columns)
    if text_field not in columns:
        yield missing_text_column(label, options.text_field, columns, source)
        return
    produced = 0
    for index, row in enumerate(rows):
        produced += 1
        article = record_to_article(row, f"{label}:{index}", source, f"row {index}", options)
        article.metadata["row"] = index
        yield article
    if produced == 0:
        yield error_article(label, "dataset has no rows", source)


def read_saved_dataset(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """A folder written by save_to_disk; for a DatasetDict, options.dataset_split (or its only split)."""
    import datasets

    source = str(path)
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:  # corrupt or version-mismatched folders raise assorted errors
        yield error_article(label, f"cannot load the saved dataset: {error}", source)
        return
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        split = options.dataset_split if options.dataset_split in loaded else None
        if split is None and len(splits) == 1:
            split = splits[0]
        if split is None:
            yield error_article(
                label,
                f"no split '{options.dataset_split}' (splits: {', '.join(splits)}); choose one with --split",
                source,
            )
            return
        loaded = loaded[split]
        label = f"{label}:{split}"
    yield from dataset_articles(loaded, list(loaded.column_names), label, source, options)


def read_parquet(path: Path, label: str, options: IngestOptions) -> Iterator[Article]:
    """Stream a Parquet file in batches (no copy into the datasets cache)."""
    import pyarrow
    import pyarrow.parquet

    source = str(path)
    try:
        parquet = pyarrow.parquet.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as error:
        yield error_article(label, f"cannot read Parquet file: {error}", source)
        return
    rows = (row for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS) for row in batch.to_pylist())
    try:
        yield from dataset_articles(rows, list(parquet.schema_arrow.names), label, source, options)
    except (OSError, pyarrow.ArrowException) as error:
        yield error_article(label, f"cannot read Parquet file: {error}", source)
