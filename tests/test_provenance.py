"""Provenance: source fingerprints, and `summarizer compare` re-running models when our code changes."""

import hashlib
import json
from pathlib import Path

from summarizer import provenance
from summarizer.evaluation import compare
from summarizer.ingest import IngestOptions


def test_content_hash_follows_contents_and_names_of_the_matching_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "b.py").write_text("B = 2\n")
    first = provenance.content_sha256(tmp_path, "*.py")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert provenance.content_sha256(tmp_path, "*.py") == first
    (tmp_path / "pkg" / "a.py").write_text("A = 3\n")
    edited = provenance.content_sha256(tmp_path, "*.py")
    assert edited != first
    (tmp_path / "pkg" / "b.py").rename(tmp_path / "pkg" / "c.py")
    assert provenance.content_sha256(tmp_path, "*.py") not in (first, edited)


def test_content_hash_of_a_file_is_its_sha256(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'{"id": 1}\n')
    assert provenance.content_sha256(data) == hashlib.sha256(b'{"id": 1}\n').hexdigest()


def test_source_fingerprint_is_that_of_the_imported_package():
    assert provenance.source_fingerprint() == provenance.content_sha256(provenance.PACKAGE_DIR, "*.py")[:16]


def test_installed_versions_mark_missing_packages():
    versions = provenance.installed_versions(("pytest", "no-such-package-summarizer"), missing="not installed")
    assert versions["pytest"][0].isdigit()
    assert versions["no-such-package-summarizer"] == "not installed"


def test_compare_reruns_a_cached_model_after_a_source_change(tmp_path, monkeypatch):
    dataset = tmp_path / "two.jsonl"
    with open(dataset, "w", encoding="utf-8") as handle:
        for index in range(2):
            text = f"Article {index} opens here. It goes on with a second sentence. A third one ends it."
            handle.write(json.dumps({"id": f"a{index}", "text": text, "reference_bullets": ["x."]}) + "\n")
    cache = tmp_path / "cache"

    def predictions() -> tuple[str, bool]:
        path, manifest = compare.run_model_cached("lead-3", dataset, cache, 3, IngestOptions(), "hash")
        return path.name, manifest["cached"]

    first_name, first_cached = predictions()
    assert not first_cached
    assert predictions() == (first_name, True)
    monkeypatch.setattr(compare, "source_fingerprint", lambda: "edited-source")
    other_bullets, _ = compare.run_model_cached("lead-3", dataset, cache, 2, IngestOptions(), "hash")
    edited_name, edited_cached = predictions()
    assert edited_name != first_name and not edited_cached
    # The run the edit superseded is gone (it can never be reused); another bullet count's run stays.
    assert not (cache / first_name).exists() and not (cache / first_name).with_suffix(".run.json").exists()
    assert other_bullets.is_file()
    assert sorted(path.name for path in cache.iterdir()) == sorted(
        [edited_name, Path(edited_name).with_suffix(".run.json").name,
         other_bullets.name, other_bullets.with_suffix(".run.json").name])
    key = json.loads((cache / edited_name).with_suffix(".run.json").read_text())["key"]
    assert json.loads(key)["source"] == "edited-source"
    assert "transformers" in json.loads(key)["packages"]


def test_a_damaged_manifest_in_the_cache_is_left_alone(tmp_path):
    """Pruning superseded runs reads every manifest of the model; one it cannot read is not ours to delete."""
    dataset = tmp_path / "one.jsonl"
    dataset.write_text(json.dumps({"id": "a", "text": "One sentence. Another one.", "reference_bullets": ["x."]})
                       + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    damaged = cache / "lead-3-damaged.run.json"
    damaged.write_text("{not json", encoding="utf-8")

    path, manifest = compare.run_model_cached("lead-3", dataset, cache, 3, IngestOptions(), "hash")

    assert not manifest["cached"] and path.is_file()
    assert damaged.read_text(encoding="utf-8") == "{not json"
