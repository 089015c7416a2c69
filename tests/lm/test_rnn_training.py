"""app/lm/rnn_training.py and `realornn train rnn`: tiny networks, a few dozen steps each."""

import json
import math
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from app.cli import main
from app.corpus import TextFileCorpus, load_corpus
from app.lm import rnn_training
from app.lm.checkpoints import load_checkpoint
from app.lm.rnn import CharRNN, RNNConfig, RNNError, RNNModel
from app.lm.rnn_training import (
    RESUME_KEY,
    TrainConfig,
    learning_rate,
    stream_layout,
    train_rnn,
    training_progress,
)

torch.set_num_threads(1)  # tiny tensors; and a benchmark may own the other core

REPETITIVE = "the quick brown fox jumps over the lazy dog.\n" * 60  # 2700 chars


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> TextFileCorpus:
    path = tmp_path_factory.mktemp("text") / "fox.txt"
    path.write_text(REPETITIVE, encoding="utf-8")
    corpus = load_corpus(path)
    assert isinstance(corpus, TextFileCorpus)
    return corpus


TINY = RNNConfig(cell="lstm", embedding_size=16, hidden_size=32, layers=1, dropout=0.0)


def quick(**overrides) -> TrainConfig:
    values = dict(
        batch_size=8, bptt=32, lr=2e-2, min_lr=2e-3, warmup_steps=5, max_steps=40,
        eval_interval=10, log_interval=10, patience=None,
    )  # fmt: skip
    return TrainConfig(**(values | overrides))


def silent(line: str) -> None:
    pass


# -- data and schedule -------------------------------------------------------------------------
def test_streams_are_contiguous_rows_and_windows_continue_each_other() -> None:
    ids = torch.arange(101)
    inputs, targets = stream_layout(ids, 4)
    assert inputs.shape == targets.shape == (4, 25)
    for b in range(4):
        assert inputs[b].tolist() == list(range(25 * b, 25 * b + 25))
    assert torch.equal(targets, inputs + 1)  # each position predicts the next character
    T = 8
    first, second = inputs[:, :T], inputs[:, T : 2 * T]
    # what a row reads in one step follows directly on what it read in the step before,
    # so the hidden state carried over has just read the text before
    assert torch.equal(second[:, 0], first[:, -1] + 1)
    # DDP: each rank gets its own contiguous rows
    rank0, _ = stream_layout(ids, 2, rank=0, world_size=2)
    rank1, _ = stream_layout(ids, 2, rank=1, world_size=2)
    assert torch.equal(torch.cat([rank0, rank1]), inputs)
    with pytest.raises(RNNError, match="too short"):
        stream_layout(torch.arange(3), 4)


def test_warmup_then_cosine_decay() -> None:
    config = TrainConfig(lr=1e-2, min_lr=1e-3, warmup_steps=10, max_steps=110)
    assert learning_rate(0, 0.0, config) == pytest.approx(1e-3)
    assert learning_rate(4, 0.0, config) == pytest.approx(5e-3)
    assert learning_rate(9, 0.0, config) == pytest.approx(1e-2)
    assert training_progress(10, 0, config) == 0.0
    assert training_progress(60, 0, config) == 0.5
    assert training_progress(500, 0, config) == 1.0
    assert learning_rate(10, 0.0, config) == pytest.approx(1e-2)
    assert learning_rate(60, 0.5, config) == pytest.approx(5.5e-3)
    assert learning_rate(110, 1.0, config) == pytest.approx(1e-3)
    lrs = [learning_rate(s, training_progress(s, 0, config), config) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))
    by_time = TrainConfig(max_steps=None, time_budget_minutes=2.0, warmup_steps=0)
    assert training_progress(5, 60.0, by_time) == 0.5


def test_bad_training_settings_are_refused() -> None:
    for overrides, message in [
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0}, "lr > 0"),
        ({"max_steps": None}, "max steps or a time budget"),
        ({"device": "tpu"}, "device must be"),
        ({"patience": 0}, "patience"),
    ]:
        with pytest.raises(RNNError, match=message):
            TrainConfig(**overrides).validated()


# -- training ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_training_learns_a_repetitive_text(corpus, tmp_path: Path, cell: str) -> None:
    config = RNNConfig(cell=cell, embedding_size=16, hidden_size=32, layers=1, dropout=0.0)
    lines = []
    result = train_rnn(
        corpus, config, quick(max_steps=100, eval_interval=25), tmp_path / "m", log=lines.append
    )
    V = len(result.model.vocabulary)
    figure = result.model.info.figures["val_bits_per_char"]
    assert figure < 1.5 < math.log2(V) / 4  # uniform over V would be 6.6 bits
    assert result.steps == 100 and result.stopped == "max_steps"
    assert any("chars/s" in line and "loss" in line for line in lines)
    assert any("| val " in line for line in lines)


def test_a_time_budget_stops_the_run_after_a_last_validation(corpus, tmp_path: Path) -> None:
    config = quick(max_steps=None, time_budget_minutes=0.002, eval_interval=1000)  # 0.12 s
    result = train_rnn(corpus, TINY, config, tmp_path / "m", log=silent)
    assert result.stopped == "time_budget" and result.steps >= 1 and result.seconds >= 0.12
    curve = json.loads(result.curve.read_text())
    assert [e["step"] for e in curve["val"]] == [result.steps]


def test_the_hidden_state_is_carried_from_step_to_step(corpus, tmp_path, monkeypatch) -> None:
    seen: list[bool] = []

    class Spy(CharRNN):
        def forward(self, tokens, hidden=None):
            if self.training:
                seen.append(hidden is not None)
            return super().forward(tokens, hidden)

    monkeypatch.setattr(rnn_training, "CharRNN", Spy)
    train_rnn(corpus, TINY, quick(max_steps=25), tmp_path / "m", log=silent)
    train_text = corpus.text("train")
    windows = ((len(train_text) - 1) // 8) // 32  # steps per pass over the text
    assert windows == 9
    # a fresh state only where a new pass over the text starts
    assert seen == [step % windows != 0 for step in range(25)]


def test_checkpoint_curve_and_metadata(corpus, tmp_path: Path) -> None:
    result = train_rnn(
        corpus, TINY, quick(max_steps=20), tmp_path / "fox", command="realornn test", log=silent
    )
    assert result.checkpoint == tmp_path / "fox.safetensors"
    curve = json.loads((tmp_path / "fox.curve.json").read_text())
    assert [e["step"] for e in curve["val"]] == [10, 20]
    assert [e["step"] for e in curve["train"]] == [10, 20]
    assert all(e["chars_per_second"] > 0 for e in curve["train"])
    assert curve["figures"] == result.model.info.figures
    info = load_checkpoint(result.checkpoint).info
    assert info.kind == "rnn" and info.unit == "char" and info.corpus == "text:fox.txt"
    assert info.parameters["hidden_size"] == 32 and info.parameters["parameter_count"] > 0
    assert set(info.figures) == {"val_bits_per_char", "val_nats_per_char"}
    training = info.training
    assert training["steps"] == 20 and training["device"] == "cpu"
    assert training["hyperparameters"]["bptt"] == 32 and training["command"] == "realornn test"
    assert training["text_path"].endswith("fox.txt") and training["weights_dtype"] == "float16"
    assert "git_revision" in training and training["seconds"] >= 0


def test_early_stopping_and_the_best_checkpoint_is_kept(corpus, tmp_path, monkeypatch) -> None:
    """Validation is scripted: best at the second evaluation (step 10), then worse twice."""
    scripted = iter([3.0, 2.0, 2.5, 2.6, 1.0])
    snapshots: list[dict] = []

    def fake_validation(network, *args) -> float:
        snapshots.append({k: v.clone() for k, v in network.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(rnn_training, "validation_bits_per_char", fake_validation)
    result = train_rnn(
        corpus, TINY, quick(max_steps=100, eval_interval=5, patience=2), tmp_path / "m", log=silent
    )
    assert result.stopped == "early_stopping"
    assert result.steps == 20 and result.best_step == 10
    kept = load_checkpoint(result.checkpoint)
    assert isinstance(kept, RNNModel)
    for name, tensor in kept.network.state_dict().items():  # the weights of step 10, as fp16
        best, last = snapshots[1][name], snapshots[3][name]
        torch.testing.assert_close(tensor, best, atol=1e-3, rtol=1e-3)
        if name == "b_y":
            assert not torch.allclose(tensor, last, atol=1e-3)
    assert kept.info.training["best_step"] == 10


def test_resume_continues_exactly_where_an_interrupted_run_stopped(corpus, tmp_path) -> None:
    """An uninterrupted 40-step run against one interrupted after step 20 and resumed: on a CPU
    with one thread the weights, the curve and the figures are identical, bit for bit."""
    config = quick(max_steps=40, eval_interval=10, log_interval=10)
    model_config = RNNConfig(cell="lstm", embedding_size=16, hidden_size=32, layers=2, dropout=0.2)
    whole = train_rnn(corpus, model_config, config, tmp_path / "whole", log=silent)

    def interrupt_after_step_20(line: str) -> None:
        if "| val " in line and re.match(r"step\s+20/", line):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_rnn(corpus, model_config, config, tmp_path / "parts", log=interrupt_after_step_20)
    resume_file = tmp_path / "parts.resume"
    with safe_open(str(resume_file), framework="numpy") as f:
        header = json.loads(f.metadata()[RESUME_KEY])
        names = set(f.keys())
    assert header["state"]["step"] == 20
    assert {"optimizer.0.exp_avg", "optimizer.0.exp_avg_sq", "hidden.0", "hidden.1"} <= names
    assert resume_file.read_bytes()[:2] != b"\x80\x04"  # not a pickle: a safetensors file

    lines: list[str] = []
    resumed = train_rnn(
        corpus, model_config, config, tmp_path / "parts", resume=True, log=lines.append
    )
    assert lines[0].startswith("resuming") and "step 20" in lines[0]
    assert resumed.steps == whole.steps == 40
    for (name, a), b in zip(
        whole.model.network.state_dict().items(),
        resumed.model.network.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    curves = [json.loads(p.read_text()) for p in (whole.curve, resumed.curve)]
    deterministic = ("step", "val_bits_per_char", "bits_per_char", "lr")  # not times or speeds
    for key in ("train", "val"):
        rows = [[{k: r[k] for k in deterministic if k in r} for r in c[key]] for c in curves]
        assert rows[0] == rows[1]
    assert whole.model.info.figures == resumed.model.info.figures


def test_resume_refuses_a_different_architecture(corpus, tmp_path: Path) -> None:
    train_rnn(corpus, TINY, quick(max_steps=10), tmp_path / "m", log=silent)
    bigger = RNNConfig(cell="lstm", embedding_size=16, hidden_size=48, layers=1, dropout=0.0)
    with pytest.raises(RNNError, match="model_config differs"):
        train_rnn(corpus, bigger, quick(max_steps=20), tmp_path / "m", resume=True, log=silent)


# -- the command -------------------------------------------------------------------------------
def run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def test_train_rnn_command_then_models_sample_and_eval(corpus, tmp_path: Path, capsys) -> None:
    models = tmp_path / "models"
    status, out, err = run(
        capsys, "train", "rnn", "--text", corpus.path, "--out", models / "fox", "--hidden", 16,
        "--embedding", 8, "--layers", 1, "--max-steps", 30, "--batch-size", 8, "--bptt", 32,
        "--eval-interval", 10, "--log-interval", 10, "--lr", "2e-2", "--json",
    )  # fmt: skip
    assert status == 0, err
    summary = json.loads(out)
    assert summary["steps"] == 30 and summary["checkpoint"] == str(models / "fox.safetensors")
    assert "chars/s" in err  # progress goes to stderr when stdout is JSON
    assert (models / "fox.curve.json").is_file() and (models / "fox.resume").is_file()

    status, out, err = run(capsys, "--models-dir", models, "models", "--json")
    assert status == 0 and err == ""  # the resume file is not mistaken for a checkpoint
    (row,) = json.loads(out)["models"]
    assert row["name"] == "fox" and row["kind"] == "rnn"
    assert row["val_bits_per_char"] == summary["val_bits_per_char"]

    status, out, err = run(
        capsys, "--models-dir", models, "sample", "fox", "--prime", "the", "--length", 60,
        "--seed", 4, "--count", 2, "--json",
    )  # fmt: skip
    assert status == 0, err
    passages = json.loads(out)
    assert [p["seed"] for p in passages] == [4, 5]
    assert all(p["text"].startswith("the") and len(p["text"]) == 63 for p in passages)
    assert passages[0]["longest_copied_span"]["length"] >= 1

    status, out, err = run(capsys, "--models-dir", models, "eval", "fox", "--json")
    assert status == 0, err
    assert json.loads(out)["bits_per_char"] == pytest.approx(summary["val_bits_per_char"], abs=1e-4)


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--hidden", "0"], "hidden_size must be between"),
        (["--cell", "transformer"], "invalid choice"),
        (["--dropout", "1.5"], "dropout must be in"),
        (["--tie-weights"], "tied weights"),
        (["--bptt", "0"], "bptt must be at least 1"),
        (["--batch-size", "5000"], "too short"),
    ],
)
def test_bad_flags_give_one_error_line(corpus, tmp_path, capsys, flags, fragment) -> None:
    status, out, err = run(
        capsys, "train", "rnn", "--text", corpus.path, "--out", tmp_path / "m", *flags
    )
    assert status == 2, (out, err)
    assert err.startswith("realornn: error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert not (tmp_path / "m.safetensors").exists()


def test_two_cpu_processes_train_together_under_torchrun(tmp_path: Path) -> None:
    """DDP on gloo: two processes, one checkpoint; the trainer checks the weights stayed equal."""
    import os
    import subprocess
    import sys

    text = tmp_path / "fox.txt"
    text.write_text(REPETITIVE, encoding="utf-8")
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "app.cli", "train", "rnn", "--text", str(text), "--out", str(out),
        "--hidden", "32", "--layers", "1", "--embedding", "16", "--dropout", "0",
        "--batch-size", "4", "--bptt", "32", "--lr", "0.02", "--warmup-steps", "5",
        "--max-steps", "40", "--eval-interval", "20", "--log-interval", "20", "--json",
    ]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    summaries = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1  # rank 0 alone reports
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["processes"] == 2
    assert summary["chars_seen"] == 40 * 4 * 32 * 2  # each process read its own 4 streams
    assert summary["val_bits_per_char"] < 5.0  # it learned: log2 V (uniform guessing) is 6.6
    model = load_checkpoint(out.with_suffix(".safetensors"))
    assert model.info.training["processes"] == 2
