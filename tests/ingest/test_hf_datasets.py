"""Hugging Face datasets: local Parquet / save_to_disk inputs, and hub names failing fast offline."""

from __future__ import annotations

import datasets
import pytest

from summarizer.ingest import IngestOptions, hf_datasets, load_articles, open_input
from summarizer.ingest.hf_datasets import DatasetUnavailableError, parse_hub_input

COLUMNS = {
    "id": ["n1", "n2"],
    "article": ["First article body. It has two sentences.", "Second article body."],
    "highlights": ["Point one.\nPoint two.", "Only point."],
}
MISSING_DATASET = "summarizer-tests/no-such-dataset"


def small_dataset():
    return datasets.Dataset.from_dict(COLUMNS)


def options(**overrides) -> IngestOptions:
    return IngestOptions(text_field="article", reference_field="highlights", **overrides)


def test_parquet_file(tmp_path):
    path = tmp_path / "news.parquet"
    small_dataset().to_parquet(str(path))
    articles = list(load_articles([str(path)], options()))
    assert [article.id for article in articles] == ["n1", "n2"]
    assert articles[0].text == COLUMNS["article"][0]
    assert articles[0].reference_bullets == ["Point one.", "Point two."]
    assert articles[1].metadata["row"] == 1


def test_parquet_without_the_text_column_names_the_columns(tmp_path):
    path = tmp_path / "news.parquet"
    small_dataset().to_parquet(str(path))
    [article] = list(load_articles([str(path)], IngestOptions(text_field="text")))
    assert article.error.startswith("no 'text' column (columns: id, article, highlights)")
    assert "--text-field" in article.error


def test_save_to_disk_folder_is_detected(tmp_path):
    saved = tmp_path / "saved"
    small_dataset().save_to_disk(str(saved))
    articles = list(load_articles([str(saved)], options()))
    assert [article.id for article in articles] == ["n1", "n2"]


def test_saved_dataset_dict_uses_the_split_option(tmp_path):
    saved = tmp_path / "dict"
    other = datasets.Dataset.from_dict({"id": ["t1"], "article": ["Train text."], "highlights": ["T."]})
    datasets.DatasetDict({"train": other, "test": small_dataset()}).save_to_disk(str(saved))
    assert [a.id for a in load_articles([str(saved)], options())] == ["n1", "n2"]
    assert [a.id for a in load_articles([str(saved)], options(dataset_split="train"))] == ["t1"]
    [missing] = list(load_articles([str(saved)], options(dataset_split="validation")))
    assert "no split 'validation' (splits: train, test)" in missing.error


def test_saved_dataset_inside_a_directory_is_not_walked_as_files(tmp_path):
    small_dataset().save_to_disk(str(tmp_path / "corpus"))
    (tmp_path / "extra.txt").write_text("A loose article.", encoding="utf-8")
    ids = [article.id for article in load_articles([str(tmp_path)], options())]
    assert ids == ["n1", "n2", "extra"]


def test_hub_input_parsing():
    assert parse_hub_input("hf:abisee/cnn_dailymail:3.0.0", IngestOptions()) == (
        "abisee/cnn_dailymail",
        "3.0.0",
    )
    assert parse_hub_input("hf:xsum", IngestOptions(dataset_config="default")) == ("xsum", "default")
    with pytest.raises(ValueError, match="no dataset name"):
        parse_hub_input("hf:", IngestOptions())


def test_unreachable_hub_fails_at_once_with_offline_advice(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(hf_datasets, "hub_reachable", lambda *args: False)
    with pytest.raises(DatasetUnavailableError) as raised:
        open_input(f"hf:{MISSING_DATASET}", IngestOptions())
    message = str(raised.value)
    assert MISSING_DATASET in message and "cannot be reached" in message
    assert "HF_HUB_OFFLINE=1" in message and "local files" in message


def test_unreachable_hub_with_a_cached_copy_says_how_to_use_it(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(hf_datasets, "hub_reachable", lambda *args: False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path)
    (tmp_path / MISSING_DATASET.replace("/", "___")).mkdir()
    with pytest.raises(DatasetUnavailableError, match="A cached copy exists .* HF_HUB_OFFLINE=1 to use it"):
        open_input(f"hf:{MISSING_DATASET}", IngestOptions())


def test_offline_mode_without_cache_fails_before_loading(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")

    def must_not_load(*args, **kwargs):
        raise AssertionError("load_dataset must not be called")

    monkeypatch.setattr(datasets, "load_dataset", must_not_load)
    with pytest.raises(DatasetUnavailableError, match="not in the local cache and offline mode is on"):
        list(load_articles([f"hf:{MISSING_DATASET}"], IngestOptions()))


def test_hub_name_without_network_raises_quickly():
    # No patching: with no network (DNS fails) the real probe answers at once; with network the
    # dataset does not exist. Either way a ValueError, not a 25 s retry loop or a crash.
    with pytest.raises(ValueError, match=MISSING_DATASET):
        list(load_articles([f"hf:{MISSING_DATASET}"], IngestOptions()))


def test_hf_prefix_with_a_local_folder_uses_load_dataset_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    monkeypatch.setattr(
        hf_datasets, "hub_reachable", lambda *args: pytest.fail("no hub probe for local")
    )
    folder = tmp_path / "hub-style"
    folder.mkdir()
    (folder / "test.jsonl").write_text('{"id": "x1", "text": "Local hub-style text."}\n', encoding="utf-8")
    [article] = list(load_articles([f"hf:{folder}"], IngestOptions()))
    assert (article.id, article.text, article.error) == ("x1", "Local hub-style text.", None)
