"""What the command groups share: the one-line errors, the models folder, loading and printing."""

import argparse
from pathlib import Path

from app.config import load_settings
from app.corpus import load_corpus
from app.lm.base import Generator, ModelInfo
from app.lm.checkpoints import load_checkpoint, resolve_checkpoint


class CommandError(Exception):
    """A mistake in how the command was used; printed as one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not a usage dump
        self.exit(2, f"realornn: error: {message} (see '{self.prog} --help')\n")


def models_dir_of(args: argparse.Namespace) -> Path:
    return args.models_dir or load_settings().models_dir


def load_model(args: argparse.Namespace) -> Generator:
    return load_checkpoint(resolve_checkpoint(args.model, models_dir_of(args)))


def corpus_of(info: ModelInfo):
    """The corpus a model was trained on, to evaluate it on its own held-out split."""
    text_path = info.training.get("text_path")
    if info.corpus != "shakespeare-plays" and not text_path:
        raise CommandError(
            f"{info.name} was trained on {info.corpus}; pass --text FILE to evaluate it"
        )
    return load_corpus(text_path or None)


def compact_parameters(parameters: dict) -> str:
    shown = {
        k: v
        for k, v in parameters.items()
        if k not in ("vocabulary_size", "min_word_count", "add_k")
    }
    return " ".join(f"{k}={v}" for k, v in shown.items())


def print_table(columns: list[str], rows: list[dict]) -> None:
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
