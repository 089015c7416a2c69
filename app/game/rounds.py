"""Rounds: made from a pooled passage, answered exactly once.

The answer lives only in the database until the guess: the browser gets the texts in a random
order and a random round id, nothing else. "Exactly once" is one conditional UPDATE (guessed_at
IS NULL), so two concurrent guesses cannot both be taken.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Text, bindparam, case, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from app.db import GeneratedPassage, Guess, HeldConnection, Player, Round, utcnow
from app.db.prepared import PreparedConnection, hot
from app.game.judge import judged_correctly, verdict
from app.game.players import KnownPlayers, PlayerClaim, claim_player, player_view
from app.game.pool import PassagePool, PooledPassage
from app.game.rules import PoolKey

QUESTIONS = {"pair": "Which is the real Shakespeare?", "single": "Real or RNN?"}
PAIR_CHOICES = (0, 1)
SINGLE_CHOICES = ("real", "generated")
CHOICE_RULES = {
    "pair": "choice must be 0 or 1 in pair mode (the passage you think is real)",
    "single": "choice must be 'real' or 'generated' in single mode",
}

# The solo game's hot path is a handful of Core statements built once here: an ORM round trip
# (identity map, unit of work, refresh) costs 0.5-1 ms of Python per statement, several times
# what SQLite itself takes, and every round and guess is a write transaction. Marked hot(), on
# the game's held SQLite connection they skip SQLAlchemy's execution too (app/db/prepared.py).
_ROUNDS = Round.__table__
_PASSAGES = GeneratedPassage.__table__
_GUESSES = Guess.__table__
_PLAYERS = Player.__table__
Executor = Session | Connection | PreparedConnection  # functions of Core statements take any

# "Exactly once" is this one conditional UPDATE: of two guesses at once, one finds guessed_at
# empty and the other finds nothing. The mode the choice fits is part of the condition, so a
# choice of the wrong kind never takes the round.
_TAKE_ROUND = hot(
    update(_ROUNDS)
    .where(
        _ROUNDS.c.id == bindparam("round_id"),
        _ROUNDS.c.room_code.is_(None),
        _ROUNDS.c.mode == bindparam("choice_mode"),
        _ROUNDS.c.guessed_at.is_(None),
        _ROUNDS.c.expires_at > bindparam("now"),
    )
    .values(guessed_at=bindparam("now"))
    .returning(_ROUNDS.c.mode, _ROUNDS.c.difficulty, _ROUNDS.c.layout, _ROUNDS.c.passage_id)
)
_ROUND_STATE = hot(
    select(_ROUNDS.c.room_code, _ROUNDS.c.mode, _ROUNDS.c.guessed_at, _ROUNDS.c.expires_at).where(
        _ROUNDS.c.id == bindparam("round_id")
    )
)
# Every column of a solo round and of its guess named (votes too): a hot() statement runs no
# Python-side defaults.
_ROUND_COLUMNS = (
    "id",
    "created_at",
    "expires_at",
    "mode",
    "difficulty",
    "passage_id",
    "layout",
    "player_id",
    "room_code",
)
_INSERT_ROUND = hot(
    insert(_ROUNDS).values({**{name: bindparam(name) for name in _ROUND_COLUMNS}, "votes": 0})
)
_GUESS_COLUMNS = (
    "created_at",
    "round_id",
    "player_id",
    "mode",
    "difficulty",
    "choice",
    "correct",
    "model",
    "temperature",
    "passage_length",
    "judge_correct",
)
_INSERT_GUESS = hot(insert(_GUESSES).values({name: bindparam(name) for name in _GUESS_COLUMNS}))
_SURPRISAL_LISTS = ("real_bits", "generated_bits")
_REVEALED_PASSAGE = hot(
    select(
        *(
            column
            for column in _PASSAGES.c
            if column.name not in ("text", "created_at", "served", "constraints", *_SURPRISAL_LISTS)
        ),
        # The surprisal lists as the JSON text they are stored as (no SQL cast, only no decoding):
        # the reveal passes them on into the answer (stored_json) rather than turn ~900 numbers
        # into Python floats and back for every guess; their means are columns of their own.
        *(type_coerce(_PASSAGES.c[name], Text).label(name) for name in _SURPRISAL_LISTS),
    ).where(_PASSAGES.c.id == bindparam("passage_id"))
)


def stored_json(value: Any) -> Any:
    """A JSON column read as the text it is stored as (SQLite), to be put into an answer as it
    is (orjson writes a Fragment verbatim); a value the driver has already decoded
    (PostgreSQL's json) is returned unchanged."""
    return orjson.Fragment(value) if isinstance(value, str) else value


class RoundNotFound(LookupError):
    pass


class RoundClosed(Exception):
    """Already guessed, or expired: the HTTP layer answers 409."""


class BadChoice(ValueError):
    pass


def round_values(
    passage_id: int,
    *,
    mode: str,
    difficulty: str,
    ttl_seconds: int,
    player_id: str | None = None,
    room_code: str | None = None,
) -> dict[str, Any]:
    """A new round's columns: a random id, and which side the real passage is on."""
    if mode == "pair":  # which side the real one is on: a fair coin, from the OS's randomness
        layout = ["real", "generated"] if secrets.randbelow(2) else ["generated", "real"]
    else:
        layout = [secrets.choice(["real", "generated"])]
    now = utcnow()
    return {
        "id": secrets.token_urlsafe(16),
        "created_at": now,
        "expires_at": now + timedelta(seconds=ttl_seconds),
        "mode": mode,
        "difficulty": difficulty,
        "passage_id": passage_id,
        "layout": layout,
        "player_id": player_id,
        "room_code": room_code,
    }


def create_round(session: Session, passage, **options) -> Round:
    """A round as an ORM object, for the classroom, which goes on to number and time it."""
    round_ = Round(**round_values(passage.id, **options))
    session.add(round_)
    return round_


def insert_round(session: Executor, passage, **options) -> dict[str, Any]:
    """A solo round: one INSERT. `passage` is anything with an id (a PooledPassage)."""
    values = round_values(passage.id, **options)
    session.execute(_INSERT_ROUND, values)
    return values


@dataclass
class SoloRound:
    values: dict[str, Any]  # the round's columns (round_values)
    passage: PooledPassage
    player: PlayerClaim


def serve_round(
    writes: HeldConnection,
    pool: PassagePool,
    keys: list[PoolKey],
    *,
    mode: str,
    difficulty: str,
    ttl_seconds: int,
    claimed_player: str | None,
    known: KnownPlayers | None = None,
    passage: PooledPassage | None = None,
) -> SoloRound | None:
    """One transaction on the game's held connection: a pooled passage (unless one is given),
    the player, the round. None when the pool has no passage for the keys (no player is made
    then): the caller generates one off this thread and comes back with it."""
    with writes.transaction() as connection:
        passage = passage or pool.pick(connection, keys)
        if passage is None:
            return None
        player = claim_player(connection, claimed_player, known)
        values = insert_round(
            connection,
            passage,
            mode=mode,
            difficulty=difficulty,
            ttl_seconds=ttl_seconds,
            player_id=player.id,
        )
    return SoloRound(values, passage, player)


def shown_round(round_values: dict[str, Any], passage) -> dict[str, Any]:
    """What the player sees of a new round: its id, the question and the texts in the round's
    order, when it expires; nothing that tells which text is real."""
    mode = round_values["mode"]
    return {
        "round_id": round_values["id"],
        "mode": mode,
        "question": QUESTIONS[mode],
        "passages": [{"text": text} for text in shown_texts(round_values["layout"], passage)],
        "expires_at": round_values["expires_at"],
    }


def shown_texts(layout: list[str], passage) -> list[str]:
    return [passage.real_text if side == "real" else passage.text for side in layout]


def answer_of(round_) -> int | str:
    return round_.layout.index("real") if round_.mode == "pair" else round_.layout[0]


def mode_of_choice(choice: int | str) -> str | None:
    """The one mode a choice can be an answer in; None when it fits neither."""
    if isinstance(choice, str):
        return "single" if choice in SINGLE_CHOICES else None
    return "pair" if choice in PAIR_CHOICES and not isinstance(choice, bool) else None


@dataclass
class GuessOutcome:
    round: Any  # the round's mode, difficulty, layout and passage_id
    passage: Any  # the passage's columns the reveal shows
    correct: bool
    answer: int | str
    player: Any  # the player's nickname, score, streak and counts after this guess, or None


def take_guess(
    session: Executor, round_id: str, choice: int | str, player_id: str | None
) -> GuessOutcome:
    """Record the one guess of a solo round and update the player's score and streak."""
    now = utcnow()
    mode = mode_of_choice(choice)
    round_ = None
    if mode is not None:
        round_ = session.execute(
            _TAKE_ROUND, {"round_id": round_id, "choice_mode": mode, "now": now}
        ).first()
    if round_ is None:
        raise why_not_taken(session, round_id, choice, now)
    answer = answer_of(round_)
    correct = choice == answer
    passage = session.execute(_REVEALED_PASSAGE, {"passage_id": round_.passage_id}).one()
    session.execute(
        _INSERT_GUESS,
        {
            "created_at": now,
            "round_id": round_id,
            "player_id": player_id,
            "mode": round_.mode,
            "difficulty": round_.difficulty,
            "choice": str(choice),
            "correct": correct,
            "model": passage.model,
            "temperature": passage.temperature,
            "passage_length": len(passage.real_text),
            "judge_correct": judged_correctly(
                round_.mode, round_.layout, passage.judge_real, passage.judge_generated
            ),
        },
    )
    player = record_score(session, player_id, correct) if player_id is not None else None
    return GuessOutcome(round_, passage, correct, answer, player)


def play_guess(
    writes: HeldConnection,
    round_id: str,
    choice: int | str,
    *,
    claimed_player: str | None,
    known: KnownPlayers | None = None,
) -> tuple[dict[str, Any], PlayerClaim]:
    """The guess of a solo round in one transaction (the player, the guess, the score), and
    the answer it reveals: right or wrong, both passages with their sources and heatmaps, the
    player's score after it. RoundNotFound, BadChoice or RoundClosed when it cannot be taken;
    nothing is stored then."""
    with writes.transaction() as connection:
        player = claim_player(connection, claimed_player, known)
        outcome = take_guess(connection, round_id, choice, player.id)
    passages, explanation = reveal(outcome.round, outcome.passage)
    answer = {
        "correct": outcome.correct,
        "answer": outcome.answer,
        "passages": passages,
        "heatmap_explanation": explanation,
        "judge": judge_said(outcome.round, outcome.passage),
        "player": player_view(outcome.player),
    }
    return answer, player


def why_not_taken(session: Executor, round_id: str, choice: int | str, now) -> Exception:
    """The refusal for a guess that did not take its round, in the order a player would want
    to hear it: no such round, a choice that does not fit it, expired, already guessed."""
    round_ = session.execute(_ROUND_STATE, {"round_id": round_id}).first()
    if round_ is None or round_.room_code is not None:
        return RoundNotFound(f"no round {round_id!r}")
    if mode_of_choice(choice) != round_.mode:
        return BadChoice(CHOICE_RULES[round_.mode])
    if round_.guessed_at is None and round_.expires_at <= now:
        return RoundClosed("this round has expired: start a new one")
    return RoundClosed("this round has already been guessed: each round takes one guess")


def _score_statement(correct: bool):
    players = _PLAYERS.c
    new_streak = players.streak + 1 if correct else 0
    return (
        update(_PLAYERS)
        .where(players.id == bindparam("player_id"))
        .values(
            guesses=players.guesses + 1,
            correct=players.correct + int(correct),
            score=players.score + int(correct),
            streak=new_streak,
            best_streak=case(
                (players.best_streak < new_streak, new_streak), else_=players.best_streak
            ),
        )
        .returning(
            players.nickname,
            players.score,
            players.streak,
            players.best_streak,
            players.guesses,
            players.correct,
        )
    )


_SCORE = {correct: hot(_score_statement(correct)) for correct in (True, False)}


def record_score(session: Executor, player_id: str, correct: bool):
    """One atomic UPDATE, so concurrent guesses by one player never lose a point; returns the
    player's nickname, score, streak, best streak, guesses and correct guesses after it."""
    return session.execute(_SCORE[bool(correct)], {"player_id": player_id}).one()


def reveal(round_: Round, passage: GeneratedPassage) -> tuple[list[dict], str]:
    """The passages in the order shown, each with its truth, source and heatmap. `passage` is
    a GeneratedPassage (its surprisal lists decoded) or a _REVEALED_PASSAGE row (the lists as
    stored JSON text in an orjson.Fragment, which only orjson can put into an answer: the web
    layer's json_response)."""
    generated_source = {
        "kind": "generated",
        "model": passage.model,
        "model_kind": passage.model_kind,
        "unit": passage.unit,
        "checkpoint_sha256": passage.checkpoint_sha256,
        "temperature": passage.temperature,
        "top_k": passage.top_k,
        "top_p": passage.top_p,
        "seed": passage.seed,
        "prime": passage.prime,
        "requested_length": passage.requested_length,
        "longest_copied_span": passage.longest_copied_span,
    }
    revealed, means = [], {}
    for side in round_.layout:
        real = side == "real"
        bits = passage.real_bits if real else passage.generated_bits
        mean = passage.real_mean_bits if real else passage.generated_mean_bits
        surprisal = None
        if mean is not None and passage.heatmap_model:  # a mean: the passage has its list
            means[side] = mean
            surprisal = {
                "model": passage.heatmap_model,
                "bits": stored_json(bits),
                "mean_bits": round(mean, 3),
            }
        revealed.append(
            {
                "real": real,
                "source": dict(passage.real_source) if real else generated_source,
                "surprisal": surprisal,
            }
        )
    return revealed, explanation(passage.heatmap_model, means)


def judge_said(round_, passage) -> dict[str, Any] | None:
    """The machine judge's verdict on this round for the reveal (None: it was not judged)."""
    said = verdict(round_.mode, round_.layout, passage.judge_real, passage.judge_generated)
    return None if said is None else {"model": passage.judge_model, **said}


def explanation(model: str | None, means: dict[str, float]) -> str:
    if not model:
        return "No model was loaded to shade the passages."
    text = (
        f"Each character is shaded by how surprised {model} was to see it, -log2 p(char | all "
        "before it): the darker, the more surprising."
    )
    if "real" in means and "generated" in means:
        text += (
            f" Here the real passage averages {means['real']:.2f} bits per character and the "
            f"generated one {means['generated']:.2f}."
        )
    return text
