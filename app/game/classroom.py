"""Classroom rooms: a lecturer (the host) runs rounds on a projector, students vote from phones.

Everything is in the database (rooms, members, rounds, votes as guesses tagged with the room), so
a restart in the middle of a lesson loses nothing. Tokens are random and stored only as SHA-256.
Votes are exactly-once by construction: the first statement of a vote is a conditional UPDATE
that only succeeds while voting is open, and the (round, player) unique constraint refuses a
second vote; both roll back together.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import GeneratedPassage, Guess, Player, Room, RoomMember, Round, transaction, utcnow
from app.db.notify import announce_room_change
from app.game import rounds as game_rounds
from app.game.judge import judged_correctly
from app.game.pool import PassagePool, PooledPassage
from app.game.rules import keys_for
from app.game.statistics import tally, wilson_interval
from app.lm.base import ModelInfo

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 6
ROOM_ROUND_TTL = timedelta(days=2)  # a room's round stays answerable until it is revealed


class RoomError(Exception):
    """A request the room's rules refuse; the message says why (and names the field)."""


class RoomNotFound(RoomError):
    """No such room, or no such round in it."""


class NotAllowed(RoomError):
    """The caller is known, but not in the role this needs (a player asking to reveal)."""


class Unauthenticated(RoomError):
    """The caller sent no token at all."""


class Conflict(RoomError):
    """Not now: the session has ended, a round is open, the vote is closed, a name is taken."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.get(Room, code) is None:
            return code


def normalise_code(code: str) -> str:
    return code.strip().upper()


def get_room(session: Session, code: str) -> Room:
    room = session.get(Room, normalise_code(code))
    if room is None:
        raise RoomNotFound(f"code: no room {code!r}")
    return room


def create_room(
    session: Session, *, difficulty: str, model: str | None, rounds: int, timer_seconds: int | None
) -> tuple[Room, str]:
    host_token = secrets.token_urlsafe(24)
    room = Room(
        code=new_code(session),
        host_token_sha256=token_hash(host_token),
        mode="pair",
        difficulty=difficulty,
        model=model,
        rounds_total=rounds,
        timer_seconds=timer_seconds,
        status="lobby",
        round_number=0,
        version=1,
    )
    session.add(room)
    session.flush()
    return room, host_token


# -- who is asking -----------------------------------------------------------------------------
@dataclass
class Caller:
    role: str  # "host" | "player" | "guest"
    member: RoomMember | None = None


def identify(session: Session, room: Room, tokens: list[str]) -> Caller:
    """The caller's role in this room from any of the tokens it sent (header, then cookies)."""
    for token in tokens:
        digest = token_hash(token)
        if secrets.compare_digest(digest, room.host_token_sha256):
            return Caller("host")
        member = session.scalar(
            select(RoomMember).where(
                RoomMember.token_sha256 == digest, RoomMember.room_code == room.code
            )
        )
        if member is not None:
            return Caller("player", member)
    return Caller("guest")


def require_host(caller: Caller, tokens: list[str]) -> None:
    if caller.role == "host":
        return
    if not tokens:
        raise Unauthenticated("Authorization: a host token is needed (Bearer ...)")
    raise NotAllowed("only this room's host can do that")


def require_player(caller: Caller, tokens: list[str]) -> RoomMember:
    if caller.role == "player" and caller.member is not None:
        return caller.member
    if not tokens:
        raise Unauthenticated("Authorization: join the room first (a player token, Bearer ...)")
    raise NotAllowed("only a player of this room can vote")


def open_room(
    session: Session, code: str, tokens: list[str], need: str | None = None
) -> tuple[Room, Caller]:
    """The room and the caller's role in it; `need` ("host" or "player") refuses anyone else."""
    room = get_room(session, code)
    caller = identify(session, room, tokens)
    if need == "host":
        require_host(caller, tokens)
    elif need == "player":
        require_player(caller, tokens)
    return room, caller


def bump(session: Session, room: Room) -> None:
    session.execute(update(Room).where(Room.code == room.code).values(version=Room.version + 1))
    announce_room_change(session, room.code)


# -- the session's flow ------------------------------------------------------------------------
def join(session: Session, room: Room, nickname: str) -> tuple[RoomMember, str]:
    if room.status == "ended":
        raise Conflict("this session has ended")
    token = secrets.token_urlsafe(24)
    player = Player(id=secrets.token_urlsafe(16), nickname=nickname)
    member = RoomMember(
        room_code=room.code, player_id=player.id, nickname=nickname, token_sha256=token_hash(token)
    )
    session.add(player)
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:
        raise Conflict(f"nickname: {nickname!r} is taken in this room, choose another") from None
    bump(session, room)
    return member, token


def start_round(session: Session, room: Room, passage: GeneratedPassage | PooledPassage) -> Round:
    if room.status == "ended":
        raise Conflict("this session has ended")
    if room.status == "voting":
        raise Conflict("the current round is still open: reveal it first")
    if room.round_number >= room.rounds_total:
        raise Conflict(f"all {room.rounds_total} rounds have been played: end the session")
    round_ = game_rounds.create_round(
        session,
        passage,
        mode="pair",
        difficulty=room.difficulty,
        ttl_seconds=int(ROOM_ROUND_TTL.total_seconds()),
        room_code=room.code,
    )
    round_.number = room.round_number + 1
    if room.timer_seconds:
        round_.deadline = round_.created_at + timedelta(seconds=room.timer_seconds)
    session.flush()
    taken = session.execute(
        update(Room)
        .where(Room.code == room.code, Room.status != "voting", Room.status != "ended")
        .values(
            status="voting",
            round_number=Room.round_number + 1,
            current_round_id=round_.id,
            version=Room.version + 1,
        )
    ).rowcount
    if taken != 1:  # another start won the race
        raise Conflict("the current round is still open: reveal it first")
    announce_room_change(session, room.code)
    return round_


def next_round(
    sessions: sessionmaker[Session],
    pool: PassagePool,
    in_game: list[ModelInfo],
    code: str,
    tokens: list[str],
) -> tuple[str, dict]:
    """(host) The room's next round, the same pair for everyone: (the room's code, what every
    screen shows of it). The passage is taken, or made (slow), outside any transaction; PoolEmpty
    when no model of the room's settings can give one."""
    with sessions() as session:
        room, _ = open_room(session, code, tokens, need="host")
        keys = keys_for(room.difficulty, in_game, room.model)
    passage = pool.take(keys)
    with transaction(sessions) as session:
        room = get_room(session, code)
        round_ = start_round(session, room, passage)
        shown = {
            "round_id": round_.id,
            "number": round_.number,
            "passages": [
                {"text": text} for text in game_rounds.shown_texts(round_.layout, passage)
            ],
            "deadline": iso(round_.deadline),
        }
        return room.code, shown


def room_round(session: Session, room: Room, round_id: str) -> Round:
    round_ = session.get(Round, round_id)
    if round_ is None or round_.room_code != room.code:
        raise RoomNotFound(f"round_id: no round {round_id!r} in room {room.code}")
    return round_


def vote(session: Session, room: Room, round_id: str, member: RoomMember, choice: int) -> int:
    """Store one vote; the votes of the round so far."""
    if choice not in (0, 1) or isinstance(choice, bool):
        raise RoomError("choice: must be 0 or 1 (the passage you think is real)")
    round_ = room_round(session, room, round_id)
    now = utcnow()
    opened = session.execute(  # first a write: it takes SQLite's lock before anything is read
        update(Round)
        .where(
            Round.id == round_id,
            Round.revealed_at.is_(None),
            (Round.deadline.is_(None)) | (Round.deadline > now),
        )
        .values(votes=Round.votes + 1)
    ).rowcount
    if opened != 1:
        if round_.revealed_at is not None:
            raise Conflict("voting is closed: this round has been revealed")
        raise Conflict("voting is closed: the time is up")
    passage = session.get(GeneratedPassage, round_.passage_id)
    assert passage is not None
    answer = game_rounds.answer_of(round_)
    try:
        with session.begin_nested():
            session.add(
                Guess(
                    created_at=now,
                    round_id=round_id,
                    player_id=member.player_id,
                    room_code=room.code,
                    mode="pair",
                    difficulty=room.difficulty,
                    choice=str(choice),
                    correct=choice == answer,
                    model=passage.model,
                    temperature=passage.temperature,
                    passage_length=len(passage.real_text),
                    judge_correct=judged_correctly(
                        "pair", round_.layout, passage.judge_real, passage.judge_generated
                    ),
                )
            )
            session.flush()
    except IntegrityError:
        raise Conflict("you have already voted in this round") from None
    bump(session, room)  # scores move only at the reveal, or a phone would learn the answer
    return session.scalar(select(Round.votes).where(Round.id == round_id)) or 0


def reveal(session: Session, room: Room, round_id: str) -> dict:
    round_ = room_round(session, room, round_id)
    if round_.revealed_at is None:
        session.execute(
            update(Round)
            .where(Round.id == round_id, Round.revealed_at.is_(None))
            .values(revealed_at=utcnow())
        )
        session.execute(
            update(Room)
            .where(Room.code == room.code, Room.current_round_id == round_id)
            .values(status="revealed", version=Room.version + 1)
        )
        announce_room_change(session, room.code)
        for guess in session.scalars(select(Guess).where(Guess.round_id == round_id)):
            if guess.player_id is not None:
                game_rounds.record_score(session, guess.player_id, guess.correct)
        session.refresh(round_)
    return reveal_of(session, round_)


def reveal_of(session: Session, round_: Round) -> dict:
    passage = session.get(GeneratedPassage, round_.passage_id)
    assert passage is not None
    choices = session.execute(select(Guess.choice).where(Guess.round_id == round_.id)).scalars()
    split = [0, 0]
    for choice in choices:
        split[int(choice)] += 1
    answer = game_rounds.answer_of(round_)
    passages, explanation = game_rounds.reveal(round_, passage)
    return {
        "answer": answer,
        "tally": split,
        "votes": sum(split),
        "correct": split[answer],
        "passages": passages,
        "heatmap_explanation": explanation,
        "judge": game_rounds.judge_said(round_, passage),
    }


def end(session: Session, room: Room) -> None:
    if room.status == "ended":
        return
    if room.status == "voting" and room.current_round_id:
        reveal(session, room, room.current_round_id)  # close the open round first
    session.execute(
        update(Room)
        .where(Room.code == room.code)
        .values(status="ended", ended_at=utcnow(), version=Room.version + 1)
    )
    announce_room_change(session, room.code)
    session.refresh(room)


# -- what everyone sees --------------------------------------------------------------------------
def iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def public_state(session: Session, room: Room) -> dict:
    """The room as the projector and every phone see it: never the answer before the reveal."""
    players = session.scalar(
        select(func.count()).select_from(RoomMember).where(RoomMember.room_code == room.code)
    )
    state = {
        "code": room.code,
        "status": room.status,
        "version": room.version,
        "settings": {
            "difficulty": room.difficulty,
            "model": room.model,
            "rounds": room.rounds_total,
            "timer_seconds": room.timer_seconds,
        },
        "players": players or 0,
        "round_number": room.round_number,
        "rounds_total": room.rounds_total,
        "round": None,
        "summary": summary(session, room) if room.status == "ended" else None,
    }
    round_ = session.get(Round, room.current_round_id) if room.current_round_id else None
    if round_ is not None:
        passage = session.get(GeneratedPassage, round_.passage_id)
        assert passage is not None
        now = utcnow()
        state["round"] = {
            "round_id": round_.id,
            "number": round_.number,
            "passages": [{"text": t} for t in game_rounds.shown_texts(round_.layout, passage)],
            "started_at": iso(round_.created_at),
            "deadline": iso(round_.deadline),
            "votes": round_.votes,
            "closed": round_.revealed_at is not None
            or (round_.deadline is not None and round_.deadline <= now),
            "reveal": reveal_of(session, round_) if round_.revealed_at is not None else None,
        }
    return state


def personal_view(session: Session, room: Room, caller: Caller) -> dict | None:
    if caller.role == "host":
        return {"role": "host"}
    if caller.member is None:
        return None
    member = caller.member
    player = session.get(Player, member.player_id)
    view = {
        "role": "player",
        "nickname": member.nickname,
        "score": player.score if player else 0,
        "votes": player.guesses if player else 0,
        "vote": None,
        "correct": None,
    }
    if room.current_round_id:
        guess = session.scalar(
            select(Guess).where(
                Guess.round_id == room.current_round_id, Guess.player_id == member.player_id
            )
        )
        if guess is not None:
            view["vote"] = int(guess.choice)
            round_ = session.get(Round, room.current_round_id)
            if round_ is not None and round_.revealed_at is not None:
                view["correct"] = guess.correct
    return view


def summary(session: Session, room: Room) -> dict:
    """The class's figures at the end: accuracy, by model and temperature, the top students
    (the web layer draws the charts of these)."""
    rows = session.execute(
        select(Guess.model, Guess.temperature, Guess.correct, RoomMember.nickname)
        .join(RoomMember, RoomMember.player_id == Guess.player_id)
        .where(Guess.room_code == room.code)
    ).all()
    correct = sum(1 for row in rows if row.correct)
    interval = wilson_interval(correct, len(rows))
    students: dict[str, list[int]] = {}
    for row in rows:
        record = students.setdefault(row.nickname, [0, 0])
        record[0] += bool(row.correct)
        record[1] += 1
    top = sorted(students.items(), key=lambda item: (-item[1][0], item[1][1], item[0]))[:10]
    return {
        "accuracy": {
            "guesses": len(rows),
            "correct": correct,
            "accuracy": correct / len(rows) if rows else None,
            "ci_low": interval[0] if interval else None,
            "ci_high": interval[1] if interval else None,
            "chance": 0.5,
        },
        "by_model": tally((row.model, row.correct) for row in rows),
        "by_temperature": tally((f"{row.temperature:g}", row.correct) for row in rows),
        "top_students": [
            {"nickname": name, "correct": right, "votes": votes} for name, (right, votes) in top
        ],
    }
