"""The generators the server loaded, and what it says about them."""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from app.lm.base import Generator, ModelInfo
from app.lm.checkpoints import CheckpointError, find_checkpoints, load_checkpoint
from app.lm.provenance import TrainingTextUnavailable, copy_guard_for

log = logging.getLogger("realornn.models")


@dataclass
class LoadedModel:
    generator: Generator
    sha256: str  # of the checkpoint file: a stored passage names exactly what made it
    guarded: bool  # its training text was found, so copies can be rejected: it may play

    @property
    def info(self) -> ModelInfo:
        return self.generator.info

    def copied_length(self, text: str) -> int:
        guard, _ = copy_guard_for(self.info)
        return guard.longest_copied_span(text).length

    def describe(self) -> dict:
        info = self.info
        return {
            "name": info.name,
            "kind": info.kind,
            "unit": info.unit,
            "parameters": info.parameters,
            "val_bits_per_char": info.figures.get("val_bits_per_char"),
            "test_bits_per_char": info.figures.get("test_bits_per_char"),
            "megabytes": round(info.file_bytes / 1e6, 2),
            "checkpoint_sha256": self.sha256,
            "in_game": self.guarded,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_models(models_dir: Path) -> dict[str, LoadedModel]:
    """Every checkpoint in the folder that loads; the others are logged with the reason."""
    loaded: dict[str, LoadedModel] = {}
    for path in find_checkpoints(models_dir):
        try:
            generator = load_checkpoint(path)
        except (CheckpointError, OSError, ValueError) as error:
            log.warning("skipping checkpoint %s: %s", path, error)
            continue
        if generator.name in loaded:
            log.warning(
                "skipping checkpoint %s: a model named %s is already loaded", path, generator.name
            )
            continue
        try:
            copy_guard_for(generator.info)  # build the copy guard now, not in the first round
            guarded = True
        except TrainingTextUnavailable as error:
            log.warning(
                "%s stays out of the game (its training text is unavailable: %s)",
                generator.name,
                error,
            )
            guarded = False
        loaded[generator.name] = LoadedModel(generator, file_sha256(path), guarded)
        log.info("loaded %s (%s) from %s", generator.name, generator.info.kind, path)
    return loaded


def heatmap_model(models: dict[str, LoadedModel], preferred: str = "") -> LoadedModel | None:
    """The model that shades the reveal: the preferred one, else the best RNN on the test plays,
    else the best model of any kind."""
    if preferred and preferred in models:
        return models[preferred]

    def test_bits(m: LoadedModel) -> float:
        value = m.info.figures.get("test_bits_per_char")
        return value if isinstance(value, int | float) else float("inf")

    rnns = [m for m in models.values() if m.info.kind == "rnn"]
    pool = rnns or list(models.values())
    return min(pool, key=test_bits) if pool else None
