"""app/cli/train.py: `realornn train ngram` (tests/lm/test_rnn_training.py runs `train rnn`)."""

from pathlib import Path

import pytest

from app.lm.checkpoints import load_checkpoint
from tests.cli.helpers import assert_one_line_error, run, run_json


def test_train_writes_a_checkpoint_and_reports_val_bits_per_char(capsys, workspace: Path) -> None:
    out_path = workspace / "fresh" / "m"
    status, out, err = run(
        capsys, "train", "ngram", "--text", workspace / "small.txt", "--order", "2",
        "--out", out_path,
    )  # fmt: skip
    assert status == 0, err
    written = workspace / "fresh" / "m.safetensors"
    assert written.is_file()
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["checkpoint"] == str(written)
    assert 0 < float(lines["val_bits_per_char"]) < 8
    model = load_checkpoint(written)
    assert model.info.name == "m"
    assert model.info.corpus == "text:small.txt"
    assert model.info.parameters["order"] == 2
    assert model.info.training["text_path"] == str((workspace / "small.txt").resolve())
    assert model.info.training["command"].startswith("realornn train ngram --text")
    assert model.info.figures["val_bits_per_char"] == pytest.approx(
        float(lines["val_bits_per_char"])
    )


def test_train_json_and_a_word_model(capsys, workspace: Path, tmp_path: Path) -> None:
    result = run_json(
        capsys, "train", "ngram", "--text", workspace / "small.txt", "--unit", "word",
        "--order", "2", "--smoothing", "wb", "--out", tmp_path / "w.safetensors",
    )  # fmt: skip
    assert result["checkpoint"] == str(tmp_path / "w.safetensors")
    assert result["bytes"] == (tmp_path / "w.safetensors").stat().st_size
    assert result["train_chars"] == int(6000 * 0.9)
    assert {"val_bits_per_char", "val_nats_per_char", "build_seconds"} <= set(result)
    assert load_checkpoint(tmp_path / "w.safetensors").info.unit == "word"


def test_a_stupid_backoff_model_trains_and_samples_but_cannot_be_evaluated(
    capsys, workspace: Path, tmp_path: Path
) -> None:
    result = run_json(
        capsys, "train", "ngram", "--text", workspace / "small.txt", "--order", "3",
        "--smoothing", "stupid", "--out", tmp_path / "s",
    )  # fmt: skip
    assert "val_bits_per_char" not in result
    sample = run_json(capsys, "sample", tmp_path / "s.safetensors", "--seed", "1", "--length", "50")
    assert len(sample["text"]) == 50
    assert_one_line_error(
        *run(capsys, "eval", tmp_path / "s.safetensors"), "stupid backoff gives scores"
    )


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--order", "0"], "order must be between 1 and 12 for char models, got 0"),
        (["--order", "99"], "order must be between 1 and 12 for char models, got 99"),
        (["--order", "7", "--unit", "word"], "order must be between 1 and 6 for word models"),
        (["--smoothing", "addk", "--add-k", "0"], "add-k needs k > 0"),
        (["--min-word-count", "0", "--unit", "word", "--order", "2"], "min_word_count"),
    ],
)
def test_a_bad_training_configuration_is_one_line(
    capsys, workspace: Path, tmp_path: Path, extra: list[str], fragment: str
) -> None:
    result = run(
        capsys, "train", "ngram", "--text", workspace / "small.txt", "--out", tmp_path / "m", *extra
    )
    assert_one_line_error(*result, fragment)
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_text_too_short_to_train_on_is_one_line(capsys, tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("abcdefghij")  # 9 training characters
    assert_one_line_error(
        *run(capsys, "train", "ngram", "--text", short, "--order", "12", "--out", tmp_path / "m"),
        "fewer than 12 tokens",
    )
    one = tmp_path / "one.txt"
    one.write_text("a")  # 0 training characters
    assert_one_line_error(
        *run(capsys, "train", "ngram", "--text", one, "--order", "1", "--out", tmp_path / "m"),
        "empty",
    )


# -- train judge -----------------------------------------------------------------------------------
def test_train_judge_writes_a_judge_with_its_held_out_figures(
    capsys, ngram_models_dir: Path, tmp_path: Path
) -> None:
    from app.game.judge import Judge

    out_path = tmp_path / "judge" / "judge.safetensors"
    result = run_json(
        capsys, "train", "judge", "--models-dir", ngram_models_dir, "--per-key", "3",
        "--val-per-key", "2", "--out", out_path,
    )  # fmt: skip
    assert result["checkpoint"] == str(out_path) and out_path.is_file()
    assert result["bytes"] == out_path.stat().st_size
    assert set(result["by_difficulty"]) == {"easy", "medium"}
    assert set(result["by_model"]) == {"char-7gram-kn"}
    assert 0 <= result["held_out_pair_accuracy"] <= 1
    judge = Judge.load(out_path)
    assert judge.info.training["command"].startswith("realornn train judge")
    assert judge.info.figures["held_out"]["pairs"] == 4  # 2 per key, 2 keys
    assert judge.info.training["train_pairs"] == 6


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--per-key", "0"], "--per-key must be at least 1"),
        (["--val-per-key", "0"], "--val-per-key must be at least 1"),
        (["--candidates", "17"], "--candidates must be between 1 and 16"),
    ],
)
def test_bad_judge_training_options_are_one_line(
    capsys, ngram_models_dir: Path, args: list[str], fragment: str
) -> None:
    status, out, err = run(capsys, "train", "judge", "--models-dir", ngram_models_dir, *args)
    assert_one_line_error(status, out, err, fragment)


def test_a_judge_needs_models_to_judge(capsys, tmp_path: Path) -> None:
    status, out, err = run(capsys, "train", "judge", "--models-dir", tmp_path)
    assert_one_line_error(status, out, err, "nothing to judge")
