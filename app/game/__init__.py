"""Everything about playing that knows no HTTP, above the language models and the database and
below the web: passages that face real excerpts (passages.py), difficulty (rules.py), rounds and
guesses (rounds.py), the passage pool and its refiller (pool.py, refill.py), the classroom
(classroom.py), players (players.py), statistics and the export (statistics.py, export.py), and
the registry of loaded models (registry.py). The names below are the pure rules; the services
are imported from their modules."""

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
