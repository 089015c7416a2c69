"""The game's rules, above the language models and below the web: passages that face real
excerpts, difficulty presets, statistics."""

from app.game.passages import (
    COPY_LIMIT,
    LENGTH_TOLERANCE,
    FacingPassage,
    Recipe,
    make_facing_passage,
    prime_for,
    regenerate,
    whole_lines,
)
from app.game.rules import DIFFICULTIES, MODES, PoolKey, keys_for, pool_keys
from app.game.statistics import length_bucket, saw_generated, tally, wilson_interval

__all__ = [
    "COPY_LIMIT",
    "DIFFICULTIES",
    "LENGTH_TOLERANCE",
    "MODES",
    "FacingPassage",
    "PoolKey",
    "Recipe",
    "keys_for",
    "length_bucket",
    "make_facing_passage",
    "pool_keys",
    "prime_for",
    "regenerate",
    "saw_generated",
    "tally",
    "wilson_interval",
    "whole_lines",
]
