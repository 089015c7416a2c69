"""The fixed split by play: the game's real excerpts come from TEST_PLAYS, which no model trains on.

Chosen once and never changed, so every checkpoint's figures stay comparable. The test plays are
famous ones a player may meet in the game (As You Like It is the lecture's slide); the validation
plays are a comedy and a tragedy of similar size. Everything else is training text.
"""

from typing import Literal

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")

VALIDATION_PLAYS: tuple[str, ...] = ("julius-caesar", "twelfth-night")
TEST_PLAYS: tuple[str, ...] = ("as-you-like-it", "hamlet", "macbeth")


def split_of_play(slug: str) -> Split:
    if slug in TEST_PLAYS:
        return "test"
    if slug in VALIDATION_PLAYS:
        return "val"
    return "train"
