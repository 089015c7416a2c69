"""app/cli.py: the `realornn` command, run in-process (and twice as a real process)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.config import PROJECT_ROOT, get_settings
from app.corpus import sample_excerpt
from app.lm.checkpoints import load_checkpoint
from app.lm.copyguard import CopyGuard
from app.lm.ngram import NGramConfig, NGramModel, save_ngram

SHIPPED_CHAR_MODEL = PROJECT_ROOT / "models" / "char-7gram-kn.safetensors"


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run `realornn ARGS` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *args: str):
    status, out, err = run(capsys, *args, "--json")
    assert status == 0, err
    return json.loads(out)


def assert_one_line_error(status: int, out: str, err: str, *fragments: str) -> None:
    assert status == 2, (out, err)
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("realornn: error: "), err
    assert "Traceback" not in err + out
    for fragment in fragments:
        assert fragment in err, err


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


def models_args(workspace: Path) -> list[str]:
    return ["--models-dir", str(workspace / "models")]


# -- corpus stats ----------------------------------------------------------------------------------
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


# -- train -----------------------------------------------------------------------------------------
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


# -- one-line errors -------------------------------------------------------------------------------
@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.txt"
    path.write_text("")
    return path


def test_an_unknown_model_is_one_line(capsys, workspace: Path) -> None:
    assert_one_line_error(
        *run(capsys, *models_args(workspace), "sample", "nosuch"), "unknown model 'nosuch'", "tiny"
    )
    assert_one_line_error(*run(capsys, *models_args(workspace), "eval", "nosuch"), "nosuch")


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


def test_an_empty_text_file_is_one_line(capsys, workspace: Path, empty_file: Path) -> None:
    out = empty_file.parent / "m"
    assert_one_line_error(
        *run(capsys, "train", "ngram", "--text", empty_file, "--out", out), "empty"
    )
    assert_one_line_error(
        *run(capsys, *models_args(workspace), "eval", "tiny", "--text", empty_file), "empty"
    )
    blank = empty_file.parent / "blank.txt"
    blank.write_text(" \n\n \n")
    assert_one_line_error(
        *run(capsys, *models_args(workspace), "eval", "tiny", "--text", blank), "empty"
    )
    assert_one_line_error(*run(capsys, "corpus", "stats", "--text", blank), "empty")


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


def test_a_text_file_that_does_not_exist_is_one_line(capsys, workspace, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    for args in (
        ["train", "ngram", "--text", missing, "--out", tmp_path / "m"],
        [*models_args(workspace), "eval", "tiny", "--text", missing],
        ["corpus", "stats", "--text", missing],
    ):
        assert_one_line_error(*run(capsys, *args), "text file not found", "missing.txt")


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


@pytest.mark.parametrize(
    "args",
    [
        ["train", "ngram", "--smoothing", "laplace", "--out", "x"],
        ["train", "ngram", "--order", "three", "--out", "x"],
        ["train", "ngram"],
        ["sample"],
        ["sample", "tiny", "--temperature", "hot"],
        ["eval", "tiny", "--split", "train"],
        ["eval", "tiny", "--split", "val", "--text", "f.txt"],
        ["frobnicate"],
    ],
)
def test_usage_mistakes_are_one_line(capsys, args: list[str]) -> None:
    assert_one_line_error(*run(capsys, *args), "see 'realornn")


def test_no_command_prints_help(capsys) -> None:
    status, out, _ = run(capsys)
    assert status == 0 and "usage: realornn" in out and "commands" in out


# -- demo ------------------------------------------------------------------------------------------
def write_plays_model(path: Path, plays_corpus, order: int, test_bits: float) -> None:
    """A small char model of a 20k-char slice of the train plays (not the whole train text)."""
    model = NGramModel.train(
        plays_corpus.text("train")[:20_000],
        NGramConfig(order=order),
        name=path.name,
        corpus="shakespeare-plays",
    )
    model.info.figures = {"val_bits_per_char": test_bits, "test_bits_per_char": test_bits}
    save_ngram(model, path)


def demo_passages(out: str) -> list[str]:
    body = out.split("===== Passage 1 =====\n", 1)[1]
    first, rest = body.split("===== Passage 2 =====\n", 1)
    second = rest.split("Passage 1 is the real" if "Passage 1 is the real" in rest else
                        "Passage 2 is the real")[0]  # fmt: skip
    return [first.removesuffix("\n"), second.removesuffix("\n")]


def test_demo_plays_the_best_plays_model_against_a_real_excerpt(
    capsys, tmp_path: Path, plays_corpus
) -> None:
    write_plays_model(tmp_path / "worse", plays_corpus, 2, 3.5)
    write_plays_model(tmp_path / "better", plays_corpus, 3, 3.0)
    text_model = NGramModel.train("abc " * 50, NGramConfig(order=2), name="t", corpus="text:t.txt")
    text_model.info.figures = {"test_bits_per_char": 0.1}  # not a plays model: never chosen
    save_ngram(text_model, tmp_path / "t")
    status, out, err = run(capsys, "--models-dir", tmp_path, "demo", "--seed", "5",
                           "--length", "300")  # fmt: skip
    assert status == 0, err
    excerpt = sample_excerpt(plays_corpus, 300, 5)
    real = 1 if f"Passage 1 is the real Shakespeare: {excerpt.attribution()}." in out else 2
    assert f"Passage {real} is the real Shakespeare: {excerpt.attribution()}." in out
    passages = demo_passages(out)
    assert passages[real - 1] == excerpt.text
    generated = passages[2 - real]
    assert generated.split("\n", 1)[0] == excerpt.text.split("\n", 1)[0]  # same speaker
    assert "The other was written by better (ngram, unit=char order=3" in out
    assert "at temperature 0.8, seed 5." in out
    again = run(capsys, "--models-dir", tmp_path, "demo", "--seed", "5", "--length", "300")
    assert again[1] == out  # the seed decides everything


@pytest.mark.skipif(not SHIPPED_CHAR_MODEL.is_file(), reason="no shipped char model")
def test_demo_with_the_shipped_char_model_never_shows_a_copy(
    capsys, plays_corpus, monkeypatch
) -> None:
    answers = io.StringIO("1\n")
    answers.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", answers)
    status, out, err = run(capsys, "demo", "--model", SHIPPED_CHAR_MODEL, "--seed", "11",
                           "--length", "400")  # fmt: skip
    assert status == 0, err
    assert "Which is the real Shakespeare? [1/2] " in out
    assert "Right! Passage 1" in out or "Wrong! Passage 2" in out
    real = 1 if "Passage 1 is the real" in out else 2
    generated = demo_passages(out.replace("Which is the real Shakespeare? [1/2] ", ""))[2 - real]
    guard = CopyGuard(plays_corpus.text("train"))
    assert guard.longest_copied_span(generated).length < 40
    assert "char-7gram-kn (ngram, unit=char order=7 smoothing=kn)" in out


def test_demo_without_plays_models_is_one_line(capsys, tmp_path: Path) -> None:
    assert_one_line_error(
        *run(capsys, "--models-dir", tmp_path, "demo", "--seed", "1"), "no usable checkpoints"
    )


def test_demo_with_a_bad_length_is_one_line(capsys, tmp_path: Path, plays_corpus) -> None:
    write_plays_model(tmp_path / "m", plays_corpus, 2, 3.5)
    assert_one_line_error(
        *run(capsys, "--models-dir", tmp_path, "demo", "--length", "5", "--seed", "1"),
        "length must be between",
    )


# -- the installed command -------------------------------------------------------------------------
def test_the_console_script_samples_like_the_in_process_command(capsys, workspace: Path) -> None:
    script = Path(sys.executable).parent / "realornn"
    if not script.is_file():
        pytest.skip("the realornn console script is not installed next to this Python")
    args = [*models_args(workspace), "sample", "tiny", "--seed", "3", "--length", "80", "--json"]
    completed = subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == run_json(capsys, *args[:-1])


def test_python_m_app_cli_reports_errors_in_one_line(workspace: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", *models_args(workspace), "sample", "tiny",
         "--temperature", "0"],
        capture_output=True, text=True, timeout=60, check=False, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert_one_line_error(
        completed.returncode, completed.stdout, completed.stderr, "temperature must be above 0"
    )


def test_serve_names_a_bad_setting_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "sometimes")
    monkeypatch.setenv("POOL_TARGET", "many")
    get_settings.cache_clear()  # read the environment again, and again after the test
    try:
        status, out, err = run(capsys, "serve")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert_one_line_error(
        status, out, err, "bad setting", "SQLITE_SYNCHRONOUS='sometimes'", "'NORMAL' or 'FULL'",
        "POOL_TARGET='many'", "integer",
    )  # fmt: skip
    assert not (tmp_path / "data").exists()  # refused before the database was made


def test_serve_refuses_an_empty_models_folder_and_bad_ports(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for name in ("MODELS_DIR", "SECRET_KEY"):  # serve sets them for its workers: undo after
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty").mkdir()
    status, out, err = run(capsys, "--models-dir", tmp_path / "empty", "serve")
    assert_one_line_error(status, out, err, "no checkpoint", str(tmp_path / "empty"))
    status, out, err = run(capsys, "serve", "--port", "70000")
    assert_one_line_error(status, out, err, "--port")
    status, out, err = run(capsys, "serve", "--workers", "0")
    assert_one_line_error(status, out, err, "--workers")
