"""Training a character RNN (`realornn train rnn`): truncated BPTT over contiguous streams.

The training text is cut into B contiguous streams, one row each (as char-rnn does). Each step
reads the next T characters of every row, starting from the hidden state the previous step ended
with, and back-propagates through those T characters only (truncated BPTT). AdamW, linear warmup
then cosine decay, gradient clipping; validation at intervals keeps the best weights as the
checkpoint and stops early when it no longer improves.

Files written next to the checkpoint NAME.safetensors (fp16 weights + JSON metadata):
    NAME.curve.json   the learning curve: training loss and validation bits per char by step
    NAME.resume       all that resuming needs (float32 weights, AdamW moments, hidden state, RNG
                      state) as safetensors + JSON, never a pickle; not meant for the repository

Several GPUs (or CPU processes) with the same command under torchrun:
    torchrun --nproc_per_node 4 -m app.cli train rnn ...
Each process takes its own B streams of the text (global batch B x processes),
DistributedDataParallel averages the gradients, and process 0 alone validates, logs and writes
files. nccl on CUDA, gloo on the CPU (the tests run two CPU processes).
"""

import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.numpy import save_file
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from app.config import PROJECT_ROOT
from app.corpus import Corpus, TextFileCorpus, sha256_text
from app.lm.base import ModelInfo
from app.lm.checkpoints import SUFFIX, load_checkpoint, save_checkpoint
from app.lm.evaluation import held_out_figures
from app.lm.rnn import (
    WEIGHT_DTYPES,
    CharRNN,
    Hidden,
    RNNConfig,
    RNNError,
    RNNModel,
    arrays_of,
    char_vocabulary,
    map_hidden,
    save_rnn,
    state_dict_of,
)

RESUME_KEY = "realornn-resume"
RESUME_FORMAT_VERSION = 1
DEVICES = ("auto", "cuda", "mps", "cpu")
COMPUTE_DTYPES = ("auto", "float32", "bfloat16")
LN2 = math.log(2)


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 64  # B contiguous streams read side by side
    bptt: int = 128  # T characters per step: gradients flow back at most this far
    lr: float = 2e-3  # peak AdamW learning rate (char-rnn's 2e-3)
    min_lr: float = 2e-4  # the cosine ends at lr / 10 (nanoGPT, Chinchilla)
    weight_decay: float = 0.01  # AdamW's decoupled decay, on matrices only (not biases)
    warmup_steps: int = 100  # linear warmup: Adam's moment estimates are noisy at first
    max_steps: int | None = 5000  # stop after this many steps (None: only the time budget)
    time_budget_minutes: float | None = None  # or stop after this much time, whichever is first
    eval_interval: int = 250  # steps between validations (each may write the checkpoint)
    eval_max_chars: int | None = None  # validate on a prefix of the val split; None: all of it
    patience: int | None = 5  # stop after this many validations without improvement; None: never
    min_improvement: float = 1e-3  # bits per char a validation must beat the best by to count
    clip: float = 1.0  # gradient-norm clipping: RNN gradients explode now and then
    seed: int = 1337  # the same seed, the same weights, batches and dropout masks
    device: str = "auto"  # auto: cuda, else mps, else cpu
    compile: bool = False  # torch.compile the network (pays off on long GPU runs)
    dtype: str = "auto"  # compute: auto = bfloat16 autocast on cuda, float32 elsewhere
    weights_dtype: str = "float16"  # on disk; float16/bfloat16 halve the file, loaded as float32
    log_interval: int = 50  # steps between progress lines

    def validated(self) -> "TrainConfig":
        positive = ("batch_size", "bptt", "eval_interval", "log_interval")
        for name in positive:
            if getattr(self, name) < 1:
                raise RNNError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (self.lr > 0 and 0 <= self.min_lr <= self.lr):
            raise RNNError(f"need lr > 0 and 0 <= min_lr <= lr, got {self.lr} and {self.min_lr}")
        if self.weight_decay < 0 or self.warmup_steps < 0 or self.clip < 0:
            raise RNNError("weight decay, warmup steps and clip must not be negative")
        if self.max_steps is None and self.time_budget_minutes is None:
            raise RNNError("give max steps or a time budget (or both)")
        if self.max_steps is not None and self.max_steps < 1:
            raise RNNError(f"max steps must be at least 1, got {self.max_steps}")
        if self.time_budget_minutes is not None and not self.time_budget_minutes > 0:
            raise RNNError(f"the time budget must be above 0, got {self.time_budget_minutes}")
        if self.patience is not None and self.patience < 1:
            raise RNNError(f"patience must be at least 1, got {self.patience}")
        if self.eval_max_chars is not None and self.eval_max_chars < 2:
            raise RNNError(f"eval max chars must be at least 2, got {self.eval_max_chars}")
        if self.device not in DEVICES:
            raise RNNError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.dtype not in COMPUTE_DTYPES:
            raise RNNError(f"dtype must be one of {', '.join(COMPUTE_DTYPES)}, got {self.dtype!r}")
        if self.weights_dtype not in WEIGHT_DTYPES:
            raise RNNError(f"weights dtype must be one of {', '.join(WEIGHT_DTYPES)}")
        return self


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job; rank 0 of 1 when run alone."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def start_distributed(device: torch.device) -> Distributed:
    """Join the torchrun job described by the environment, if there is one."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size())


def agree(value: float, distributed: Distributed, op=None) -> float:
    """The same number on every process (rank 0's, or the max), so all stop at the same step."""
    if not distributed.active:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    if op is None:
        dist.broadcast(tensor, src=0)
    else:
        dist.all_reduce(tensor, op=op)
    return float(tensor.item())


def choose_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        name = "mps" if torch.backends.mps.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RNNError("device cuda asked for, but torch sees no CUDA GPU")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RNNError("device mps asked for, but torch sees no Apple GPU")
    return torch.device(name)


# -- data --------------------------------------------------------------------------------------
def stream_layout(
    ids: torch.Tensor, streams: int, rank: int = 0, world_size: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a text into contiguous streams, one row each: inputs (B, L) and targets (B, L).

    Row b reads ids[b*L : (b+1)*L] and predicts the character after each. Columns t*T..(t+1)*T of
    a row continue columns (t-1)*T..t*T of the same row, so the hidden state one step hands to the
    next has really just read the text before. Under DDP, rank r would take its own `streams` rows.
    """
    total = streams * world_size
    length = (len(ids) - 1) // total
    if length < 1:
        raise RNNError(f"a text of {len(ids)} characters is too short for {total} streams")
    inputs = ids[: total * length].view(total, length)
    targets = ids[1 : total * length + 1].view(total, length)
    rows = slice(rank * streams, (rank + 1) * streams)
    return inputs[rows], targets[rows]


def encode(text: str, vocabulary: list[str]) -> torch.Tensor:
    index = {token: i for i, token in enumerate(vocabulary)}  # id 0 is <unk>
    return torch.from_numpy(np.fromiter((index.get(ch, 0) for ch in text), np.int64, len(text)))


# -- schedule ----------------------------------------------------------------------------------
def training_progress(step: int, seconds: float, config: TrainConfig) -> float:
    """How far through the decay the run is, 0..1: by steps, by time, or whichever is further."""
    progress = 0.0
    if config.max_steps is not None:
        decay_steps = max(config.max_steps - config.warmup_steps, 1)
        progress = (step - config.warmup_steps) / decay_steps
    if config.time_budget_minutes is not None:
        progress = max(progress, seconds / (60 * config.time_budget_minutes))
    return min(max(progress, 0.0), 1.0)


def learning_rate(step: int, progress: float, config: TrainConfig) -> float:
    """Linear warmup to lr over warmup_steps, then cosine decay to min_lr as progress goes 0->1."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    cosine = 0.5 * (1 + math.cos(math.pi * progress))  # 1 -> 0
    return config.min_lr + cosine * (config.lr - config.min_lr)


def make_optimizer(network: CharRNN, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on the matrices only; biases are not pulled towards zero."""
    matrices = [p for p in network.parameters() if p.dim() >= 2]
    vectors = [p for p in network.parameters() if p.dim() < 2]
    groups = [
        {"params": matrices, "weight_decay": config.weight_decay},
        {"params": vectors, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.99))


# -- validation --------------------------------------------------------------------------------
@torch.no_grad()
def validation_bits_per_char(
    network: CharRNN, inputs: torch.Tensor, targets: torch.Tensor, bptt: int, bf16: bool
) -> float:
    """Bits per char on the val streams, hidden state carried along each row (a fast estimate:
    each row starts from a zero state; the figures in the final checkpoint are exact)."""
    was_training = network.training
    network.eval()
    hidden, total_nats = None, torch.zeros((), device=inputs.device)
    for start in range(0, inputs.shape[1], bptt):
        x, y = inputs[:, start : start + bptt], targets[:, start : start + bptt]  # (B, T)
        with autocast(inputs.device, bf16):
            logits, hidden = network(x, hidden)  # (B, T, V)
        total_nats += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum")
    network.train(was_training)
    return total_nats.item() / targets.numel() / LN2


def autocast(device: torch.device, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


# -- resume state ------------------------------------------------------------------------------
@dataclass
class TrainingState:
    """What the loop knows besides the weights and optimizer; saved in the resume file."""

    step: int = 0
    seconds: float = 0.0  # training time so far, over all sessions of the run
    best_val: float = math.inf  # best validation bits per char (the batched estimate)
    best_step: int = 0
    evaluations_without_improvement: int = 0
    curve: dict[str, list[dict]] = field(default_factory=lambda: {"train": [], "val": []})


def save_resume_state(
    path: Path,
    network: CharRNN,
    optimizer: torch.optim.Optimizer,
    hidden: Hidden | None,
    state: TrainingState,
    identity: dict,
) -> None:
    arrays = {f"model.{name}": a for name, a in arrays_of(network, "float32").items()}
    optimizer_state = optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        for key, value in values.items():
            arrays[f"optimizer.{index}.{key}"] = value.detach().float().cpu().numpy()
    hidden_tensors = (
        [] if hidden is None else list(hidden) if isinstance(hidden, tuple) else [hidden]
    )
    for i, h in enumerate(hidden_tensors):  # bfloat16 -> float32 and back is exact
        arrays[f"hidden.{i}"] = h.detach().float().cpu().numpy()
    arrays["rng.cpu"] = torch.get_rng_state().numpy()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        arrays["rng.cuda"] = torch.cuda.get_rng_state().numpy()
    header = {
        "format_version": RESUME_FORMAT_VERSION,
        **identity,
        "state": asdict(state),
        "hidden": {
            "count": len(hidden_tensors),
            "is_pair": isinstance(hidden, tuple),  # the LSTM's (h, c)
            "dtype": str(hidden_tensors[0].dtype).removeprefix("torch.")
            if hidden_tensors
            else "float32",
        },
        "param_groups": optimizer_state["param_groups"],
    }
    tmp = path.with_name(path.name + ".tmp")
    save_file(arrays, str(tmp), metadata={RESUME_KEY: json.dumps(header)})
    tmp.replace(path)  # an interruption while writing keeps the previous resume state


def load_resume_state(
    path: Path, network: CharRNN, optimizer: torch.optim.Optimizer, identity: dict
) -> tuple[TrainingState, Hidden | None]:
    """Restore weights, optimizer moments and RNG; return the loop state and hidden state."""
    try:
        with safe_open(str(path), framework="numpy") as f:
            header = json.loads((f.metadata() or {})[RESUME_KEY])
            arrays = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (OSError, ValueError, KeyError) as error:
        raise RNNError(f"{path}: not a readable resume state ({error})") from None
    for key, value in identity.items():
        if header.get(key) != value:
            raise RNNError(f"{path}: cannot resume, the {key} differs from this run's")
    device = next(network.parameters()).device
    weights = {k.removeprefix("model."): v for k, v in arrays.items() if k.startswith("model.")}
    network.load_state_dict(state_dict_of(weights, network.config.tie_weights))
    groups = header["param_groups"]
    for group in groups:
        group["betas"] = tuple(group["betas"])
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for name, array in arrays.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".")
            moments.setdefault(int(index), {})[key] = torch.from_numpy(array.copy())
    optimizer.load_state_dict({"state": moments, "param_groups": groups})
    torch.set_rng_state(torch.from_numpy(arrays["rng.cpu"].copy()))
    if "rng.cuda" in arrays and device.type == "cuda":
        torch.cuda.set_rng_state(torch.from_numpy(arrays["rng.cuda"].copy()))
    shape = header["hidden"]
    tensors = [
        torch.from_numpy(arrays[f"hidden.{i}"].copy()).to(device, getattr(torch, shape["dtype"]))
        for i in range(shape["count"])
    ]
    hidden = (tuple(tensors) if shape["is_pair"] else tensors[0]) if tensors else None
    return TrainingState(**header["state"]), hidden  # type: ignore[return-value]


# -- the loop ----------------------------------------------------------------------------------
@dataclass
class TrainResult:
    model: RNNModel | None  # the best weights as the checkpoint holds them; None off rank 0
    checkpoint: Path
    curve: Path
    resume: Path
    steps: int
    best_step: int
    stopped: str  # "max_steps", "time_budget" or "early_stopping"
    seconds: float


def paths_for(out: str | Path) -> tuple[Path, Path, Path]:
    """NAME.safetensors, NAME.curve.json and NAME.resume, side by side."""
    checkpoint = Path(out)
    if checkpoint.suffix != SUFFIX:
        checkpoint = checkpoint.with_name(checkpoint.name + SUFFIX)
    stem = checkpoint.name.removesuffix(SUFFIX)
    return (
        checkpoint,
        checkpoint.with_name(stem + ".curve.json"),
        checkpoint.with_name(stem + ".resume"),
    )


def stop_reason(state: TrainingState, config: TrainConfig) -> str | None:
    if config.patience is not None and state.evaluations_without_improvement >= config.patience:
        return "early_stopping"
    if config.max_steps is not None and state.step >= config.max_steps:
        return "max_steps"
    if config.time_budget_minutes is not None and state.seconds >= 60 * config.time_budget_minutes:
        return "time_budget"
    return None


def train_rnn(
    corpus: Corpus,
    model_config: RNNConfig,
    config: TrainConfig,
    out: str | Path,
    *,
    resume: bool = False,
    command: str = "",
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train on corpus's train split, validate on its val split, write the best checkpoint."""
    model_config, config = model_config.validated(), config.validated()
    checkpoint_path, curve_path, resume_path = paths_for(out)
    name = checkpoint_path.name.removesuffix(SUFFIX)
    device = choose_device(config.device)
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))  # one GPU per process
    distributed = start_distributed(device)
    if not distributed.is_main:
        log = _silent  # one voice: rank 0 logs and writes files
    bf16 = config.dtype == "bfloat16" or (config.dtype == "auto" and device.type == "cuda")
    train_text = corpus.text("train")
    vocabulary = char_vocabulary(train_text)
    V, B, T = len(vocabulary), config.batch_size, config.bptt
    train_inputs, train_targets = (
        t.to(device)
        for t in stream_layout(
            encode(train_text, vocabulary), B, distributed.rank, distributed.world_size
        )
    )
    windows = train_inputs.shape[1] // T  # steps per pass over the text
    if windows < 1:
        raise RNNError(
            f"the training text is too short for {B} streams of {T}: lower the batch size or bptt"
        )
    val_ids = encode(corpus.text("val")[: config.eval_max_chars], vocabulary)
    val_streams = max(1, min(B, (len(val_ids) - 1) // T))
    val_inputs, val_targets = (t.to(device) for t in stream_layout(val_ids, val_streams))

    torch.manual_seed(config.seed)
    network = CharRNN(model_config, V).to(device)
    optimizer = make_optimizer(network, config)
    identity = {
        "model_config": asdict(model_config),
        "corpus_sha256": sha256_text(train_text),
        "vocabulary": vocabulary,
        "batch_size": B,
        "bptt": T,
    }
    state, hidden = TrainingState(), None
    if resume and resume_path.exists():
        state, hidden = load_resume_state(resume_path, network, optimizer, identity)
        if distributed.active:
            hidden = None  # the saved state is rank 0's streams; every rank restarts its own
        log(f"resuming {resume_path} at step {state.step}")
    elif resume:
        log(f"no resume state at {resume_path}: starting from step 0")
    trainable: torch.nn.Module = network
    if distributed.active:  # averages gradients across processes during backward()
        trainable = DistributedDataParallel(
            network, device_ids=[device.index] if device.type == "cuda" else None
        )
    forward = torch.compile(trainable) if config.compile else trainable
    parameters = model_config.parameters_dict() | {
        "vocabulary_size": V,
        "parameter_count": network.parameter_count(),
    }
    info = ModelInfo(name, "rnn", "char", parameters, corpus.name, identity["corpus_sha256"])
    record = {  # what every checkpoint of this run says about its training
        "command": command,
        **({"text_path": str(corpus.path.resolve())} if isinstance(corpus, TextFileCorpus) else {}),
        "device": str(device)
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "compute_dtype": "bfloat16" if bf16 else "float32",
        "processes": distributed.world_size,
        "train_chars": len(train_text),
        "hyperparameters": asdict(config),
        "git_revision": git_revision(),
        "torch": torch.__version__,
    }
    total = f"/{config.max_steps}" if config.max_steps else ""

    network.train()
    session_start = time.perf_counter()
    seconds_before = state.seconds
    loss_sum, loss_steps, log_clock = torch.zeros((), device=device), 0, time.perf_counter()
    # In a terminal, a progress bar on stderr; the progress lines still print (above the bar).
    bar = tqdm(
        total=config.max_steps,
        initial=state.step,
        unit="step",
        dynamic_ncols=True,
        disable=not (distributed.is_main and sys.stderr.isatty()),
    )
    if not bar.disable:
        plain_log = log

        def log(line: str) -> None:
            with tqdm.external_write_mode():
                plain_log(line)

    while (reason := stop_reason(state, config)) is None:
        window = state.step % windows
        if window == 0:
            hidden = None  # a new pass: a row's end is not followed by its own beginning
        lr = learning_rate(state.step, training_progress(state.step, state.seconds, config), config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        columns = slice(window * T, (window + 1) * T)
        with autocast(device, bf16):
            logits, hidden = forward(train_inputs[:, columns], hidden)  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), train_targets[:, columns].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip > 0:
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.clip)
        optimizer.step()
        hidden = map_hidden(hidden, torch.Tensor.detach)  # carry the state, not its history
        state.step += 1
        state.seconds = seconds_before + time.perf_counter() - session_start
        # every process must see the same clock, or one would stop while others wait for it
        state.seconds = agree(state.seconds, distributed, op=dist.ReduceOp.MAX)
        loss_sum += loss.detach()
        loss_steps += 1
        bar.update(1)

        if state.step % config.log_interval == 0:
            bits = loss_sum.item() / loss_steps / LN2  # .item() waits for the GPU: only here
            speed = loss_steps * B * T / (time.perf_counter() - log_clock)
            state.curve["train"].append(
                {
                    "step": state.step,
                    "bits_per_char": round(bits, 5),
                    "lr": lr,
                    "chars_per_second": round(speed),
                    "seconds": round(state.seconds, 2),
                }
            )
            val = f"{state.best_val:.4f}" if state.best_val < math.inf else "-"
            bar.set_postfix_str(f"loss {bits:.3f} | best val {val} | {speed:,.0f} chars/s")
            log(
                f"step {state.step:>6}{total} | loss {bits:.4f} bits/char | best val {val} "
                f"bits/char | lr {lr:.2e} | {speed:,.0f} chars/s"
            )
            loss_sum, loss_steps, log_clock = torch.zeros((), device=device), 0, time.perf_counter()

        if state.step % config.eval_interval == 0 or stop_reason(state, config) is not None:
            val = math.inf
            if distributed.is_main:
                val = validation_bits_per_char(network, val_inputs, val_targets, T, bf16)
            val = agree(val, distributed)  # so every process counts the same patience
            improved = val < state.best_val - config.min_improvement
            if improved:
                state.best_val, state.best_step = val, state.step
                state.evaluations_without_improvement = 0
                info.figures = {"val_bits_per_char": round(val, 5)}
                info.training = record | {"steps": state.step, "partial": True}
                if distributed.is_main:
                    save_checkpoint(
                        checkpoint_path, arrays_of(network, config.weights_dtype), info, vocabulary
                    )
            else:
                state.evaluations_without_improvement += 1
            state.curve["val"].append(
                {
                    "step": state.step,
                    "val_bits_per_char": round(val, 5),
                    "seconds": round(state.seconds, 2),
                }
            )
            if distributed.is_main:
                save_resume_state(resume_path, network, optimizer, hidden, state, identity)
                write_curve(curve_path, name, model_config, config, device, state)
            log(
                f"step {state.step:>6}{total} | val {val:.4f} bits/char"
                f"{' (best, saved)' if improved else ''} | {state.seconds:.1f} s"
            )
            log_clock = time.perf_counter()  # validation time is not training speed

    bar.close()
    if distributed.active:
        check_in_sync(network)
        if not distributed.is_main:  # rank 0 scores and writes the final checkpoint
            dist.barrier()
            return TrainResult(None, *paths_for(out), state.step, state.best_step, reason, 0.0)
    if not checkpoint_path.exists():
        raise RNNError(f"no checkpoint was written to {checkpoint_path}")
    # The figures are measured on the weights exactly as shipped (rounded to weights_dtype).
    model = load_checkpoint(checkpoint_path)
    assert isinstance(model, RNNModel)
    model.to(device)
    model.info.figures = held_out_figures(model, corpus)
    model.to("cpu")
    model.info.training = record | {
        "steps": state.step,
        "best_step": state.best_step,
        "stopped": reason,
        "seconds": round(state.seconds, 1),
        "chars_seen": state.step * B * T * distributed.world_size,
        "best_val_bits_per_char_estimate": round(state.best_val, 5),  # the batched estimate
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save_rnn(model, checkpoint_path, config.weights_dtype)
    write_curve(curve_path, name, model_config, config, device, state, model.info.figures)
    log(
        f"done: {state.step} steps ({reason}), best val at step {state.best_step}: "
        + ", ".join(f"{k} {v}" for k, v in model.info.figures.items())
    )
    if distributed.active:
        dist.barrier()  # the others wait until the checkpoint is complete
    paths = (checkpoint_path, curve_path, resume_path)
    return TrainResult(model, *paths, state.step, state.best_step, reason, state.seconds)


def check_in_sync(network: CharRNN) -> None:
    """DDP keeps every process's weights equal; make sure, before rank 0 writes them."""
    flat = torch.cat([p.detach().float().flatten().cpu() for p in network.parameters()])
    checksum = torch.tensor([flat.double().sum().item(), flat.double().abs().sum().item()])
    gathered = [torch.zeros_like(checksum) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, checksum)
    if any(not torch.equal(g, gathered[0]) for g in gathered):
        raise RNNError("the processes' weights drifted apart: distributed training is broken")


def _silent(line: str) -> None:
    pass


def write_curve(
    path: Path,
    name: str,
    model_config: RNNConfig,
    config: TrainConfig,
    device: torch.device,
    state: TrainingState,
    figures: dict | None = None,
) -> None:
    curve = {
        "name": name,
        "model_config": asdict(model_config),
        "train_config": asdict(config),
        "device": str(device),
        "best_step": state.best_step,
        "figures": figures or {},
        **state.curve,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(curve, indent=1) + "\n")


def git_revision() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
