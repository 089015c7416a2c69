"""app/cli/models.py: `realornn models`, `realornn sample` and `realornn eval`."""

import os
from pathlib import Path

import pytest

from app.lm.checkpoints import load_checkpoint
from app.lm.ngram import NGramConfig, NGramModel, save_ngram
from tests.cli.helpers import assert_one_line_error, models_args, run, run_json


# -- models ----------------------------------------------------------------------------------------
def test_models_lists_the_checkpoints(capsys, workspace: Path) -> None:
    result = run_json(capsys, *models_args(workspace), "models")
    assert result["models_dir"] == str(workspace / "models")
    assert result["problems"] == []
    (tiny,) = [row for row in result["models"] if row["name"] == "tiny"]
    assert (tiny["kind"], tiny["unit"], tiny["corpus"]) == ("ngram", "char", "text:small.txt")
    assert tiny["parameters"]["order"] == 3 and tiny["parameters"]["smoothing"] == "kn"
    assert tiny["val_bits_per_char"] > 0 and tiny["test_bits_per_char"] is None
    assert tiny["path"] == str(workspace / "models" / "tiny.safetensors")
    status, out, err = run(capsys, *models_args(workspace), "models")
    assert status == 0 and err == ""
    header, row = out.splitlines()[:2]
    assert header.split() == [
        "name", "kind", "unit", "parameters", "val_bits_per_char", "test_bits_per_char",
        "megabytes",
    ]  # fmt: skip
    assert row.startswith("tiny ") and "order=3" in row and "smoothing=kn" in row


def test_models_skips_unreadable_checkpoints_and_says_so(capsys, tmp_path: Path) -> None:
    (tmp_path / "broken.safetensors").write_bytes(b"\x00garbage" * 10)
    status, out, err = run(capsys, "--models-dir", tmp_path, "models")
    assert status == 0
    assert out == f"no checkpoints in {tmp_path}\n"
    assert err.startswith("skipped: ") and "broken.safetensors" in err
    result = run_json(capsys, "--models-dir", tmp_path, "models")
    assert result["models"] == [] and len(result["problems"]) == 1


# -- sample ----------------------------------------------------------------------------------------
def test_sample_json_is_reproducible_and_reports_the_longest_copied_span(
    capsys, workspace: Path
) -> None:
    first = run_json(capsys, *models_args(workspace), "sample", "tiny", "--seed", "3")
    assert set(first) == {"text", "model", "params", "seed", "longest_copied_span"}
    assert first["model"] == "tiny" and first["seed"] == 3
    assert len(first["text"]) == 400
    assert first["params"] == {
        "length": 400, "temperature": 1.0, "top_k": None, "top_p": None, "prime": "", "seed": 3,
        "lexicon": False,
    }  # fmt: skip
    copied = first["longest_copied_span"]
    assert copied["length"] == len(copied["text"]) > 0
    assert copied["source"].startswith("small.txt, line ")
    assert copied["text"] in first["text"]
    assert copied["text"] in (workspace / "small.txt").read_text()
    again = run_json(capsys, *models_args(workspace), "sample", "tiny", "--seed", "3")
    assert again == first
    other = run_json(capsys, *models_args(workspace), "sample", "tiny", "--seed", "4")
    assert other["text"] != first["text"]


def test_sample_lexicon_spells_only_words_of_the_training_plays(
    capsys, workspace: Path, plays_corpus
) -> None:
    from app.corpus import WORD
    from app.lm.constraints import training_lexicon

    lexicon = training_lexicon(plays_corpus)
    spelled = run_json(
        capsys, *models_args(workspace), "sample", "tiny", "--seed", "5", "--lexicon",
        "--length", "600",
    )  # fmt: skip
    assert spelled["params"]["lexicon"] is True
    words = WORD.findall(spelled["text"])[:-1]  # the length may cut the last one short
    assert words and all(word in lexicon for word in words)
    free = run_json(capsys, *models_args(workspace), "sample", "tiny", "--seed", "5")
    assert any(word not in lexicon for word in WORD.findall(free["text"])[:-1])


def test_sample_count_gives_that_many_passages_with_consecutive_seeds(
    capsys, workspace: Path
) -> None:
    args = [*models_args(workspace), "sample", "tiny", "--length", "120", "--temperature", "0.7"]
    batch = run_json(capsys, *args, "--seed", "10", "--count", "3")
    assert isinstance(batch, list) and len(batch) == 3
    assert [p["seed"] for p in batch] == [10, 11, 12]
    for passage in batch:
        alone = run_json(capsys, *args, "--seed", str(passage["seed"]))
        assert alone["text"] == passage["text"]
        assert passage["params"]["seed"] == passage["seed"]


def test_sample_prime_escapes_become_real_characters(capsys, workspace: Path) -> None:
    result = run_json(
        capsys, *models_args(workspace), "sample", "tiny", "--prime", "A:\\n", "--seed", "1",
        "--length", "30",
    )  # fmt: skip
    assert result["text"].startswith("A:\n")
    assert len(result["text"]) == 33
    assert result["params"]["prime"] == "A:\n"
    unicode_prime = run_json(
        capsys, *models_args(workspace), "sample", "tiny", "--prime", "Ô café\\t—", "--seed", "1",
        "--length", "5",
    )  # fmt: skip
    assert unicode_prime["text"].startswith("Ô café\t—")


def test_sample_without_a_seed_reports_one_that_regenerates_the_passage(
    capsys, workspace: Path
) -> None:
    args = [*models_args(workspace), "sample", "tiny", "--length", "60"]
    drawn = run_json(capsys, *args)
    assert isinstance(drawn["seed"], int)
    assert run_json(capsys, *args, "--seed", str(drawn["seed"]))["text"] == drawn["text"]


def test_sample_prints_passages_as_text(capsys, workspace: Path) -> None:
    status, out, err = run(
        capsys, *models_args(workspace), "sample", "tiny", "--seed", "2", "--count", "2",
        "--length", "50", "--top-k", "5", "--top-p", "0.9",
    )  # fmt: skip
    assert status == 0, err
    assert "--- passage 1 of 2 from tiny (seed 2) ---" in out
    assert "--- passage 2 of 2 from tiny (seed 3) ---" in out
    assert out.count("--- longest copied span: ") == 2


def test_sample_by_checkpoint_path(capsys, workspace: Path) -> None:
    path = workspace / "models" / "tiny.safetensors"
    by_path = run_json(capsys, "sample", path, "--seed", "3", "--length", "40")
    by_name = run_json(capsys, *models_args(workspace), "sample", "tiny", "--seed", "3",
                       "--length", "40")  # fmt: skip
    assert by_path["text"] == by_name["text"]


def test_sample_says_when_the_training_text_is_gone(capsys, tmp_path: Path, workspace) -> None:
    text_file = tmp_path / "gone.txt"
    text_file.write_text((workspace / "small.txt").read_text()[:3000])
    run_json(capsys, "train", "ngram", "--text", text_file, "--order", "2", "--out",
             tmp_path / "g")  # fmt: skip
    text_file.unlink()
    result = run_json(capsys, "sample", tmp_path / "g.safetensors", "--seed", "1", "--length", "40")
    assert len(result["text"]) == 40
    assert result["longest_copied_span"]["length"] is None
    assert "gone.txt" in result["longest_copied_span"]["unavailable"]
    status, out, _ = run(capsys, "sample", tmp_path / "g.safetensors", "--seed", "1")
    assert status == 0 and "--- longest copied span: unknown (" in out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--temperature", "0"], "temperature must be above 0, got 0.0"),
        (["--temperature", "-1"], "temperature must be above 0, got -1.0"),
        (["--temperature", "nan"], "temperature must be above 0"),
        (["--length", "0"], "length must be between 1 and"),
        (["--top-k", "0"], "top_k must be at least 1"),
        (["--top-p", "1.5"], "top_p must be in (0, 1]"),
        (["--seed", "-3"], "seed must be between 0"),
        (["--count", "0"], "count must be between 1 and"),
        (["--count", "1000"], "count must be between 1 and"),
    ],
)
def test_bad_sampling_parameters_are_one_line(
    capsys, workspace: Path, extra: list[str], fragment: str
) -> None:
    assert_one_line_error(*run(capsys, *models_args(workspace), "sample", "tiny", *extra), fragment)


# -- eval ------------------------------------------------------------------------------------------
def test_eval_scores_the_models_own_val_split(capsys, workspace: Path) -> None:
    result = run_json(capsys, *models_args(workspace), "eval", "tiny")
    small = (workspace / "small.txt").read_text()
    assert result["text_name"] == "val"
    assert result["model"] == "tiny"
    assert result["characters"] == len(small) - int(len(small) * 0.9)
    assert result["tokens"] == result["characters"]  # a char model
    model = load_checkpoint(workspace / "models" / "tiny.safetensors")
    assert result["bits_per_char"] == pytest.approx(model.info.figures["val_bits_per_char"], 1e-4)
    assert result["perplexity_per_char"] == pytest.approx(2 ** result["bits_per_char"])
    assert result["nats_per_char"] == pytest.approx(result["bits_per_char"] * 0.6931471805599453)
    same = run_json(capsys, *models_args(workspace), "eval", "tiny", "--split", "val")
    assert same["bits_per_char"] == result["bits_per_char"]


def test_eval_scores_any_text_file(capsys, workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("HAMLET:\nTo be, or not to be, that is the question.\n")
    result = run_json(capsys, *models_args(workspace), "eval", "tiny", "--text", other)
    assert result["text_name"] == "other.txt"
    assert result["characters"] == len(other.read_text())
    assert 0 < result["bits_per_char"] < 10
    status, out, err = run(capsys, *models_args(workspace), "eval", "tiny", "--text", other)
    assert status == 0, err
    assert out.startswith("tiny on other.txt (")
    assert "bits per char:" in out and "perplexity per char:" in out


def test_eval_of_a_text_shorter_than_the_context(capsys, workspace: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("Z")
    result = run_json(capsys, *models_args(workspace), "eval", "tiny", "--text", one)
    assert result["characters"] == 1 and result["bits_per_char"] > 0


def test_the_test_split_of_a_text_trained_model_is_one_line(capsys, workspace: Path) -> None:
    assert_one_line_error(
        *run(capsys, *models_args(workspace), "eval", "tiny", "--split", "test"),
        "has only train and val splits",
    )


def test_a_model_trained_on_a_moved_text_cannot_find_its_val_split(capsys, tmp_path: Path) -> None:
    model = NGramModel.train("some text here " * 20, NGramConfig(order=2), name="lost",
                             corpus="text:lost.txt")  # fmt: skip
    save_ngram(model, tmp_path / "lost")
    assert_one_line_error(
        *run(capsys, "eval", tmp_path / "lost.safetensors"), "pass --text FILE to evaluate it"
    )


# -- models that cannot be loaded, for sample and eval ---------------------------------------------
def test_an_unknown_model_is_one_line(capsys, workspace: Path) -> None:
    assert_one_line_error(
        *run(capsys, *models_args(workspace), "sample", "nosuch"), "unknown model 'nosuch'", "tiny"
    )
    assert_one_line_error(*run(capsys, *models_args(workspace), "eval", "nosuch"), "nosuch")


def test_a_missing_checkpoint_path_is_one_line(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nothere.safetensors"
    assert_one_line_error(*run(capsys, "sample", missing), "nothere")
    assert_one_line_error(*run(capsys, "eval", tmp_path / "sub" / "nothere"), "nothere")


def test_a_corrupt_checkpoint_is_one_line(capsys, tmp_path: Path) -> None:
    garbage = tmp_path / "x.safetensors"
    garbage.write_bytes(os.urandom(2000))
    for command in ("sample", "eval"):
        assert_one_line_error(*run(capsys, "--models-dir", tmp_path, command, "x"), str(garbage))
    assert_one_line_error(*run(capsys, "sample", garbage), str(garbage))
