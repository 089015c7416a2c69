"""app/cli/corpus.py: `realornn corpus stats` and `realornn corpus export`."""

from pathlib import Path

from tests.cli.helpers import run, run_json


def test_corpus_stats_of_the_plays_has_train_val_and_test(capsys, plays_corpus) -> None:
    result = run_json(capsys, "corpus", "stats")
    assert result["corpus"] == "shakespeare-plays"
    splits = {row["split"]: row for row in result["splits"]}
    assert set(splits) == {"train", "val", "test"}
    for name, row in splits.items():
        assert row["characters"] == len(plays_corpus.text(name)) > 0
        assert row["plays"] > 0 and row["speeches"] > 0 and row["distinct_characters"] > 20
    status, out, _ = run(capsys, "corpus", "stats")
    assert status == 0
    assert out.startswith("corpus: shakespeare-plays\n")
    assert "split" in out and "distinct_characters" in out and "test" in out


def test_corpus_stats_of_a_text_file_splits_it_90_10(capsys, tmp_path: Path) -> None:
    text = "".join(f"LINE {i}:\nsome words here.\n\n" for i in range(100))
    (tmp_path / "t.txt").write_text(text)
    result = run_json(capsys, "corpus", "stats", "--text", tmp_path / "t.txt")
    assert result["corpus"] == "text:t.txt"
    assert [row["split"] for row in result["splits"]] == ["train", "val"]
    train, val = result["splits"]
    assert train["characters"] + val["characters"] == len(text)
    assert train["characters"] == int(len(text) * 0.9)


def test_corpus_export_writes_splits_that_train_as_the_plays(
    capsys, plays_corpus, tmp_path
) -> None:
    status, out, _ = run(capsys, "corpus", "export", tmp_path / "plays")
    assert status == 0
    assert {p.name for p in (tmp_path / "plays").iterdir()} == {
        "train.txt", "val.txt", "test.txt", "manifest.json"
    }  # fmt: skip
    assert "train.txt" in out
    result = run_json(capsys, "corpus", "stats", "--text", tmp_path / "plays")
    assert result["corpus"] == "shakespeare-plays"
    assert [row["characters"] for row in result["splits"]] == [
        len(plays_corpus.text(split)) for split in ("train", "val", "test")
    ]
