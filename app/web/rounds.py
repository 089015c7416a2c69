"""Rounds: made from a pooled passage, answered exactly once.

The answer lives only in the database until the guess: the browser gets the texts in a random
order and a random round id, nothing else. "Exactly once" is one conditional UPDATE (guessed_at
IS NULL), so two concurrent guesses cannot both be taken.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from app.db import GeneratedPassage, Guess, Player, Round, utcnow

QUESTIONS = {"pair": "Which is the real Shakespeare?", "single": "Real or RNN?"}


class RoundNotFound(LookupError):
    pass


class RoundClosed(Exception):
    """Already guessed, or expired: the HTTP layer answers 409."""


class BadChoice(ValueError):
    pass


def create_round(
    session: Session,
    passage: GeneratedPassage,
    *,
    mode: str,
    difficulty: str,
    ttl_seconds: int,
    player_id: str | None = None,
    room_code: str | None = None,
) -> Round:
    if mode == "pair":  # which side the real one is on: a fair coin, from the OS's randomness
        layout = ["real", "generated"] if secrets.randbelow(2) else ["generated", "real"]
    else:
        layout = [secrets.choice(["real", "generated"])]
    now = utcnow()
    round_ = Round(
        id=secrets.token_urlsafe(16),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        mode=mode,
        difficulty=difficulty,
        passage_id=passage.id,
        layout=layout,
        player_id=player_id,
        room_code=room_code,
    )
    session.add(round_)
    return round_


def shown_texts(round_: Round, passage: GeneratedPassage) -> list[str]:
    return [passage.real_text if side == "real" else passage.text for side in round_.layout]


def answer_of(round_: Round) -> int | str:
    return round_.layout.index("real") if round_.mode == "pair" else round_.layout[0]


def normalise_choice(mode: str, choice: int | str) -> int | str:
    if mode == "pair":
        if choice not in (0, 1) or isinstance(choice, str):
            raise BadChoice("choice must be 0 or 1 in pair mode (the passage you think is real)")
    elif choice not in ("real", "generated"):
        raise BadChoice("choice must be 'real' or 'generated' in single mode")
    return choice


@dataclass
class GuessOutcome:
    round: Round
    passage: GeneratedPassage
    correct: bool
    answer: int | str


def take_guess(
    session: Session, round_id: str, choice: int | str, player: Player | None
) -> GuessOutcome:
    """Record the one guess of a solo round and update the player's score and streak."""
    round_ = session.get(Round, round_id)
    if round_ is None or round_.room_code is not None:
        raise RoundNotFound(f"no round {round_id!r}")
    choice = normalise_choice(round_.mode, choice)
    now = utcnow()
    if round_.expires_at <= now:
        raise RoundClosed("this round has expired: start a new one")
    taken = session.execute(
        update(Round)
        .where(Round.id == round_id, Round.guessed_at.is_(None))
        .values(guessed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise RoundClosed("this round has already been guessed: each round takes one guess")
    answer = answer_of(round_)
    correct = choice == answer
    passage = session.get(GeneratedPassage, round_.passage_id)
    assert passage is not None  # a foreign key
    session.add(
        Guess(
            created_at=now,
            round_id=round_id,
            player_id=player.id if player else None,
            mode=round_.mode,
            difficulty=round_.difficulty,
            choice=str(choice),
            correct=correct,
            model=passage.model,
            temperature=passage.temperature,
            passage_length=len(passage.real_text),
        )
    )
    if player is not None:
        record_score(session, player, correct)
    return GuessOutcome(round_, passage, correct, answer)


def record_score(session: Session, player: Player, correct: bool) -> None:
    """One atomic UPDATE, so concurrent guesses by one player never lose a point."""
    new_streak = Player.streak + 1 if correct else 0
    session.execute(
        update(Player)
        .where(Player.id == player.id)
        .values(
            guesses=Player.guesses + 1,
            correct=Player.correct + int(correct),
            score=Player.score + int(correct),
            streak=new_streak,
            best_streak=case(
                (Player.best_streak < new_streak, new_streak), else_=Player.best_streak
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(player)


def reveal(round_: Round, passage: GeneratedPassage) -> tuple[list[dict], str]:
    """The passages in the order shown, each with its truth, source and heatmap."""
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
        surprisal = None
        if bits and passage.heatmap_model:
            mean = sum(bits) / len(bits)
            means[side] = mean
            surprisal = {"model": passage.heatmap_model, "bits": bits, "mean_bits": round(mean, 3)}
        revealed.append(
            {
                "real": real,
                "source": dict(passage.real_source) if real else generated_source,
                "surprisal": surprisal,
            }
        )
    return revealed, explanation(passage.heatmap_model, means)


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
