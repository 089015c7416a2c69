"""Difficulty: which (model, temperature) pairs a round may draw its generated passage from.

The levels are ordered by measured tell-ability: the machine judge's pair accuracy on held-out
rounds (models/README.md, the judge's metadata, /how). A cool RNN writes the smoothest text; a
cool n-gram, though, repeats its likeliest phrases, and the judge tells it most easily of all, so
the n-grams play easy at 0.8 and medium at 1.0. Presets go by kind, so a student's own checkpoint
joins in.
"""

from dataclasses import dataclass

from app.game.passages import Writing
from app.lm.base import ModelInfo

DIFFICULTIES = ("mixed", "easy", "medium", "hard")
MODES = ("pair", "single")
# The temperatures the passage pool keeps ready for each kind of model.
TEMPERATURES = {"ngram": (0.8, 1.0), "rnn": (0.75, 1.0)}
PRESETS: dict[str, set[tuple[str, float]]] = {  # difficulty -> {(kind, temperature)}
    "easy": {("ngram", 0.8)},
    "medium": {("ngram", 1.0), ("rnn", 1.0)},
    "hard": {("rnn", 0.75)},
}


# Where the lexicon constraint is on (every word a word of the training plays), and where the
# judge keeps the most real-looking of several candidates.
LEXICON_DIFFICULTIES = ("medium", "hard")
BEST_OF_DIFFICULTIES = ("hard",)


def difficulty_of(kind: str, temperature: float) -> str:
    """The level whose preset holds (kind, temperature); "easy" for anything in none."""
    for difficulty, preset in PRESETS.items():
        if (kind, temperature) in preset:
            return difficulty
    return "easy"


def writing_for(kind: str, temperature: float, candidates: int = 1) -> Writing:
    """How the fakes of a (kind, temperature) key are written: `candidates` (the setting
    HARD_CANDIDATES) applies at the levels of BEST_OF_DIFFICULTIES."""
    difficulty = difficulty_of(kind, temperature)
    return Writing(
        lexicon=difficulty in LEXICON_DIFFICULTIES,
        candidates=candidates if difficulty in BEST_OF_DIFFICULTIES else 1,
    )


@dataclass(frozen=True)
class PoolKey:
    model: str
    temperature: float


def pool_keys(models: list[ModelInfo]) -> list[PoolKey]:
    return [
        PoolKey(info.name, temperature)
        for info in models
        for temperature in TEMPERATURES.get(info.kind, (1.0,))
    ]


def keys_for(difficulty: str, models: list[ModelInfo], model: str | None = None) -> list[PoolKey]:
    """The pool keys a round of this difficulty may use (never empty while a model is loaded)."""
    kinds = {info.name: info.kind for info in models}
    keys = [key for key in pool_keys(models) if model is None or key.model == model]
    if difficulty == "mixed":
        return keys
    chosen = [key for key in keys if (kinds[key.model], key.temperature) in PRESETS[difficulty]]
    return chosen or keys  # e.g. "hard" with no RNN loaded: the nearest thing there is
