"""Checkpoints into models: read a checkpoint file (app/lm/checkpoint_file.py) and hand its arrays
to the loader of its `kind`. The one place that dispatches by kind, above the model families, so
that ngram.py and rnn.py need not know each other and the callers (the CLI, the game's registry)
never ask which kind they have. A new family registers a loader for its kind.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from safetensors import SafetensorError

from app.lm.base import Generator, ModelInfo
from app.lm.checkpoint_file import (  # the file format, for callers that load and save models
    FORMAT_VERSION,
    METADATA_KEY,
    SUFFIX,
    CheckpointError,
    find_checkpoints,
    read_arrays,
    read_header,
    resolve_checkpoint,
    save_checkpoint,
)
from app.lm.ngram import load_ngram_from_arrays

__all__ = [
    "FORMAT_VERSION",
    "METADATA_KEY",
    "SUFFIX",
    "CheckpointError",
    "Loader",
    "find_checkpoints",
    "load_checkpoint",
    "read_header",
    "register_loader",
    "resolve_checkpoint",
    "save_checkpoint",
]

Loader = Callable[[dict[str, np.ndarray], ModelInfo, list[str]], Generator]


def load_rnn(arrays: dict[str, np.ndarray], info: ModelInfo, vocabulary: list[str]) -> Generator:
    from app.lm.rnn import load_rnn_from_arrays  # torch loads only when an RNN does

    return load_rnn_from_arrays(arrays, info, vocabulary)


_LOADERS: dict[str, Loader] = {"ngram": load_ngram_from_arrays, "rnn": load_rnn}


def register_loader(kind: str, loader: Loader) -> None:
    _LOADERS[kind] = loader


def load_checkpoint(path: str | Path) -> Generator:
    """Load any registered kind of model from its checkpoint."""
    info, vocabulary = read_header(path)
    loader = _LOADERS.get(info.kind)
    if loader is None:
        raise CheckpointError(f"{path}: unknown model kind {info.kind!r}")
    try:
        return loader(read_arrays(path), info, vocabulary)
    except CheckpointError:
        raise
    except (
        SafetensorError,
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
    ) as error:
        raise CheckpointError(f"{path}: corrupt checkpoint ({error})") from None
