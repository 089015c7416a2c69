"""Plain helpers for the CLI tests: run `realornn` in-process and check its one-line errors."""

import json
from pathlib import Path

from app.cli import main


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


def models_args(workspace: Path) -> list[str]:
    return ["--models-dir", str(workspace / "models")]
