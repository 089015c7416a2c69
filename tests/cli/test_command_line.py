"""app/cli/__init__.py: usage mistakes, help, shared errors, and the command as a real process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from tests.cli.helpers import assert_one_line_error, models_args, run, run_json


# -- mistakes shared by several commands -----------------------------------------------------------
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


def test_a_text_file_that_does_not_exist_is_one_line(capsys, workspace, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    for args in (
        ["train", "ngram", "--text", missing, "--out", tmp_path / "m"],
        [*models_args(workspace), "eval", "tiny", "--text", missing],
        ["corpus", "stats", "--text", missing],
    ):
        assert_one_line_error(*run(capsys, *args), "text file not found", "missing.txt")


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
