"""The checkpoint file format: safetensors arrays plus JSON metadata in the header. Reading never
unpickles.

Every checkpoint describes itself (kind, unit, architecture, vocabulary, corpus and its hash,
figures), so `realornn models`, `sample` and `eval` and the server need nothing else to use it.
This module knows the file, not the models: it lies below the model families (ngram.py and
rnn.py save through it), and app/lm/checkpoints.py, above them, turns a file into a model of its
kind.
"""

import json
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from app.lm.base import ModelInfo

FORMAT_VERSION = 1
METADATA_KEY = "realornn"
SUFFIX = ".safetensors"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not ours; the message names the path."""


def save_checkpoint(
    path: str | Path, arrays: dict[str, np.ndarray], info: ModelInfo, vocabulary: list[str]
) -> Path:
    """Write arrays and self-describing metadata; returns the path written."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    info_dict = asdict(info)
    info_dict.pop("path"), info_dict.pop("file_bytes")
    header = {"format_version": FORMAT_VERSION, "info": info_dict, "vocabulary": vocabulary}
    tmp = path.with_name(path.name + ".tmp")
    save_file(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()},
        str(tmp),
        metadata={METADATA_KEY: json.dumps(header)},
    )
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def read_header(path: str | Path) -> tuple[ModelInfo, list[str]]:
    """Metadata and vocabulary only, without reading the arrays."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({error})") from None
    try:
        header = json.loads(metadata[METADATA_KEY])
        if header.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: unsupported checkpoint format {header.get('format_version')!r}"
            )
        known = {f.name for f in fields(ModelInfo)}
        info = ModelInfo(**{k: v for k, v in header["info"].items() if k in known})
        vocabulary = list(header["vocabulary"])
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{path}: not a Real or RNN? checkpoint (bad metadata: {error})"
        ) from None
    info.path = str(path)
    info.file_bytes = path.stat().st_size
    return info, vocabulary


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of the checkpoint, by name (safetensors: no code runs)."""
    with safe_open(str(path), framework="numpy") as f:
        return {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open is not a dict)


def find_checkpoints(models_dir: str | Path) -> list[Path]:
    return sorted(Path(models_dir).glob(f"*{SUFFIX}"))


def resolve_checkpoint(name_or_path: str, models_dir: str | Path) -> Path:
    """A model name in the models folder ("char-7gram-kn") or a path to a checkpoint file."""
    candidates = [
        Path(name_or_path),
        Path(name_or_path + SUFFIX),
        Path(models_dir) / name_or_path,
        Path(models_dir) / (name_or_path + SUFFIX),
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if "/" in name_or_path or name_or_path.endswith(SUFFIX):
        raise CheckpointError(f"{name_or_path}: no such checkpoint file")
    available = (
        ", ".join(p.name.removesuffix(SUFFIX) for p in find_checkpoints(models_dir)) or "none"
    )
    raise CheckpointError(f"unknown model {name_or_path!r} (models in {models_dir}: {available})")
