"""Issue 37 item 5: a damaged store file is named, with how to recover, exit 2, and left untouched."""

from pathlib import Path

import pytest

from summarizer.cli.main import main

PAGE = 4096


def write_articles(folder: Path, count: int = 12) -> Path:
    folder.mkdir()
    for index in range(count):
        sentences = (f"Sentence {j} of article {index} says the council met on day {j} and agreed the plan."
                     for j in range(40))
        (folder / f"a{index}.txt").write_text(" ".join(sentences), encoding="utf-8")
    return folder


@pytest.fixture
def real_store(tmp_path) -> tuple[Path, Path]:
    """A store written by `summarizer run --store` (several pages of articles and summaries)."""
    articles = write_articles(tmp_path / "articles")
    path = tmp_path / "news.db"
    assert main(["run", str(articles), "--model", "lead-3", "--store", str(path), "--quiet"]) == 0
    assert path.stat().st_size > 8 * PAGE
    return path, articles


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def zero_tail(path: Path) -> None:
    """Keep the size and the first pages (header, schema, user_version), blank the rest: the file
    opens and migrates as if sound, so only a check finds the damage."""
    data = path.read_bytes()
    path.write_bytes(data[: 8 * PAGE] + b"\0" * (len(data) - 8 * PAGE))


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, it is a text file someone named news.db\n" * 100)


DAMAGES = {"truncated": truncate, "zeroed-tail": zero_tail, "garbage": garbage}


@pytest.mark.parametrize("damage", DAMAGES)
def test_run_on_a_damaged_store_exits_2_names_it_and_writes_nothing(real_store, damage, capsys):
    path, articles = real_store
    DAMAGES[damage](path)
    before = path.read_bytes()
    capsys.readouterr()
    code = main(["run", str(articles / "a0.txt"), "--model", "lead-3", "--store", str(path), "--quiet"])
    error = capsys.readouterr().err
    assert code == 2
    assert str(path) in error and ".recover" in error and "Traceback" not in error
    assert path.read_bytes() == before  # not a byte written, not even a run manifest


@pytest.mark.parametrize("damage", DAMAGES)
def test_digest_of_a_damaged_store_exits_2_and_names_it(real_store, damage, tmp_path, capsys):
    path, _ = real_store
    DAMAGES[damage](path)
    before = path.read_bytes()
    capsys.readouterr()
    out = tmp_path / "digest.md"
    code = main(["digest", "--store", str(path), "--since", "1d", "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 2
    assert str(path) in error and ".recover" in error and "new store" in error
    assert not out.exists() and path.read_bytes() == before



def test_a_store_path_that_cannot_be_opened_is_an_error_naming_it(tmp_path, capsys):
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    article = tmp_path / "a.txt"
    article.write_text("The council met on Tuesday. It approved the budget after a long debate.")
    code = main(["run", str(article), "--model", "lead-3", "--store", str(folder), "--quiet"])
    assert code == 2 and f"cannot open the store {folder}" in capsys.readouterr().err
    assert main(["digest", "--store", str(tmp_path / "missing.db")]) == 2
