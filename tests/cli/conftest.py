"""Fixtures for the CLI tests: a workspace with a tiny model, an empty text file."""

from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, plays_corpus) -> Path:
    """A folder with a few-KB text file and a models folder holding a char trigram of it."""
    root = tmp_path_factory.mktemp("cli")
    (root / "small.txt").write_text(plays_corpus.text("val")[:6000], encoding="utf-8")
    (root / "models").mkdir()
    status = main(
        ["--models-dir", str(root / "models"), "train", "ngram", "--text", str(root / "small.txt"),
         "--order", "3", "--out", str(root / "models" / "tiny")]
    )  # fmt: skip
    assert status == 0
    return root


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.txt"
    path.write_text("")
    return path
