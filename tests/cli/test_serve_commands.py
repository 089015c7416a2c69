"""app/cli/serve.py: `realornn demo` and `realornn serve`."""

import io
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT, get_settings
from app.corpus import sample_excerpt
from app.lm.copyguard import CopyGuard
from app.lm.ngram import NGramConfig, NGramModel, save_ngram
from tests.cli.helpers import assert_one_line_error, run

SHIPPED_CHAR_MODEL = PROJECT_ROOT / "models" / "char-7gram-kn.safetensors"


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


# -- serve -----------------------------------------------------------------------------------------
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
