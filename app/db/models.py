"""The database: typed SQLAlchemy 2.0 mappings. The schema itself is made by Alembic migrations
(app/db/migrations); tests check the two agree.

rooms     classroom rooms: a host (lecturer), settings, where the session is
members   the students of a room (each also a player)
passages  the bank of generated passages, each paired with the real excerpt it was made to face
rounds    one game round: which passage, how it is laid out, its one guess
guesses   every guess, flattened for statistics and export (rooms add theirs here too)
players   anonymous players (a signed cookie holds the id), score and streak
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC: SQLite keeps no zone


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Player(Base):
    __tablename__ = "players"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nickname: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    guesses: Mapped[int] = mapped_column(default=0)
    correct: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)
    streak: Mapped[int] = mapped_column(default=0)
    best_streak: Mapped[int] = mapped_column(default=0)


class GeneratedPassage(Base):
    """A generated passage and the real excerpt it faces; enough to regenerate it exactly."""

    __tablename__ = "passages"
    __table_args__ = (Index("ix_passages_key_served", "model", "temperature", "served"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # how it was made
    model: Mapped[str] = mapped_column(String(200))
    model_kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    checkpoint_sha256: Mapped[str] = mapped_column(String(64))
    temperature: Mapped[float]
    top_k: Mapped[int | None]
    top_p: Mapped[float | None]
    seed: Mapped[int] = mapped_column(BigInteger)
    prime: Mapped[str] = mapped_column(Text)
    requested_length: Mapped[int]  # characters asked of the model after the prime
    text: Mapped[str] = mapped_column(Text)  # cut at a line end, formatted as real excerpts
    longest_copied_span: Mapped[int]
    # the real excerpt it faces (test plays only)
    real_text: Mapped[str] = mapped_column(Text)
    real_source: Mapped[dict[str, Any]]
    # per-character surprisal in bits under the heatmap model, for the reveal
    heatmap_model: Mapped[str | None] = mapped_column(String(200))
    generated_bits: Mapped[list[Any] | None]
    real_bits: Mapped[list[Any] | None]
    # their means, kept so that a guess's reveal can pass the lists on as the JSON text they are
    # stored as, without decoding them (app/game/rounds.py)
    generated_mean_bits: Mapped[float | None]
    real_mean_bits: Mapped[float | None]
    # the constraints it was written under (app/game/passages.py Recipe.constraints): the real
    # excerpt's scaffold, the lexicon, how many candidates the judge chose among; {} before them
    constraints: Mapped[dict[str, Any] | None]
    # the machine judge's scores (logit of p(real)) of both texts, for the reveal and the stats
    judge_model: Mapped[str | None] = mapped_column(String(200))
    judge_real: Mapped[float | None]
    judge_generated: Mapped[float | None]
    served: Mapped[int] = mapped_column(default=0)  # rounds that showed it


class Round(Base):
    __tablename__ = "rounds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(10))  # "pair" | "single"
    difficulty: Mapped[str] = mapped_column(String(10))
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id"))
    # what was shown, in order: ["real", "generated"], ["generated", "real"], ["real"], ...
    layout: Mapped[list[Any]]
    player_id: Mapped[str | None] = mapped_column(ForeignKey("players.id"))
    room_code: Mapped[str | None] = mapped_column(String(12), index=True)
    guessed_at: Mapped[datetime | None]
    # classroom rounds: their number in the room, the vote deadline, the votes so far, the reveal
    number: Mapped[int | None]
    deadline: Mapped[datetime | None]
    votes: Mapped[int] = mapped_column(default=0, server_default="0")
    revealed_at: Mapped[datetime | None]


class Guess(Base):
    __tablename__ = "guesses"
    __table_args__ = (UniqueConstraint("round_id", "player_id", name="uq_guesses_round_player"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    player_id: Mapped[str | None] = mapped_column(ForeignKey("players.id"))
    room_code: Mapped[str | None] = mapped_column(String(12))
    mode: Mapped[str] = mapped_column(String(10))
    difficulty: Mapped[str] = mapped_column(String(10))
    choice: Mapped[str] = mapped_column(String(10))  # "0" | "1" | "real" | "generated"
    correct: Mapped[bool]
    # copied from the passage so statistics need no joins
    model: Mapped[str] = mapped_column(String(200))
    temperature: Mapped[float]
    passage_length: Mapped[int]  # characters of the real excerpt (the generated one is within 10%)
    # whether the machine judge got the same round right (None: the passage was never judged)
    judge_correct: Mapped[bool | None]


class Room(Base):
    """A classroom session. The host's token is kept only as its SHA-256."""

    __tablename__ = "rooms"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    host_token_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10), default="pair")
    difficulty: Mapped[str] = mapped_column(String(10))
    model: Mapped[str | None] = mapped_column(String(200))
    rounds_total: Mapped[int]
    timer_seconds: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="lobby")  # voting, revealed, ended
    round_number: Mapped[int] = mapped_column(default=0)
    current_round_id: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=0)  # bumped on every change: the event stream
    ended_at: Mapped[datetime | None]


class RoomMember(Base):
    __tablename__ = "room_members"
    __table_args__ = (UniqueConstraint("room_code", "nickname", name="uq_members_room_nickname"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code"), index=True)
    player_id: Mapped[str] = mapped_column(ForeignKey("players.id"))
    nickname: Mapped[str] = mapped_column(String(24))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
