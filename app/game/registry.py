"""The registry of loaded models: every checkpoint of the models folder that loads, whether it
may play (its training text was found, so copies can be rejected), which one shades the reveal
and which one samples when none is named. The web layer asks it for a model and never which
kind of model it has."""

import hashlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.game.judge import Judge
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


class UnknownModel(LookupError):
    """A model this server did not load; the message names the field and the loaded ones."""


def load_judge(path: Path) -> Judge | None:
    """The machine judge, or None (logged) when its checkpoint is missing or unreadable."""
    if not path.is_file():
        log.info("no machine judge at %s: rounds go unjudged", path)
        return None
    try:
        judge = Judge.load(path)
    except (CheckpointError, OSError, ValueError) as error:
        log.warning("skipping the judge %s: %s", path, error)
        return None
    log.info("loaded the machine judge %s from %s", judge.name, path)
    return judge


class ModelRegistry(Mapping[str, LoadedModel]):
    """The loaded models by name, read-only once built, with the choices made about them, and
    the machine judge (None when there is none)."""

    def __init__(
        self,
        models: dict[str, LoadedModel],
        *,
        heatmap: str = "",
        sample: str = "",
        judge: Judge | None = None,
    ) -> None:
        self._models = dict(models)
        self.heatmap = heatmap_model(self._models, heatmap)
        self._sample_preference = sample
        self.judge = judge

    @classmethod
    def load(cls, settings: Settings) -> "ModelRegistry":
        """The models folder's checkpoints, with the settings' heatmap and sample choices."""
        return cls(
            load_models(settings.models_dir),
            heatmap=settings.heatmap_model,
            sample=settings.sample_model,
            judge=load_judge(settings.resolved_judge_path()),
        )

    def __getitem__(self, name: str) -> LoadedModel:
        return self._models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def in_game(self) -> list[ModelInfo]:
        """The models that may write a round's passage."""
        return [m.info for m in self._models.values() if m.guarded]

    def require(self, name: str | None) -> None:
        """UnknownModel for a name this server did not load (None: any model will do)."""
        if name is not None and name not in self._models:
            raise UnknownModel(f"model: no model {name!r} (loaded: {', '.join(self._models)})")

    def default(self) -> LoadedModel:
        return self.heatmap or next(iter(self._models.values()))

    def for_sampling(self, name: str | None = None) -> LoadedModel:
        """The named model (UnknownModel if not loaded); with no name, the sample setting's
        model, else the default model."""
        if name is not None:
            self.require(name)
            return self._models[name]
        return self._models.get(self._sample_preference) or self.default()

    def describe(self) -> list[dict]:
        return [m.describe() for m in self._models.values()]
