"""Accuracy statistics and the guess export, straight from the guesses table."""

import csv
import hashlib
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Guess, Player
from app.game import length_bucket, saw_generated, tally

EXPORT_COLUMNS = {
    "guess_id": "row id of the guess",
    "created_at": "UTC time of the guess, ISO 8601",
    "round_id": "the round's random id",
    "mode": "pair or single",
    "difficulty": "mixed, easy, medium or hard",
    "model": "the generator that wrote the fake passage",
    "temperature": "its sampling temperature",
    "passage_length": "characters of the real excerpt",
    "choice": "pair: 0 or 1 (the passage picked as real); single: real or generated",
    "correct": "true when the guess was right",
    "player": "a stable pseudonym: the nickname if set, else 'anon-' and 8 hex digits",
    "room_code": "the classroom room, empty for solo play",
}


def compute_stats(session: Session) -> dict:
    rows = session.execute(
        select(
            Guess.model,
            Guess.temperature,
            Guess.mode,
            Guess.passage_length,
            Guess.choice,
            Guess.correct,
        )
    ).all()
    overall = tally(("all", row.correct) for row in rows)
    # by model and temperature: only guesses made with that model's passage on screen
    seen = [row for row in rows if saw_generated(row.mode, row.choice, row.correct)]
    by_model = tally((row.model, row.correct) for row in seen)
    return {
        "overall": overall[0] if overall else tally_empty(),
        "by_model": by_model,
        "by_temperature": tally((f"{row.temperature:g}", row.correct) for row in seen),
        "by_mode": tally((row.mode, row.correct) for row in rows),
        "by_length": tally((length_bucket(row.passage_length), row.correct) for row in rows),
        "fool_leaderboard": sorted(
            (
                {
                    "model": row["key"],
                    "guesses": row["guesses"],
                    "fooled": row["fooled"],
                    "fool_rate": row["fool_rate"],
                    "ci_low": row["fool_ci_low"],
                    "ci_high": row["fool_ci_high"],
                }
                for row in by_model
            ),
            key=lambda r: (-(r["fool_rate"] or 0), -r["guesses"]),
        ),
    }


def tally_empty() -> dict:
    return {
        "key": "all",
        "guesses": 0,
        "correct": 0,
        "accuracy": None,
        "ci_low": None,
        "ci_high": None,
        "fooled": 0,
        "fool_rate": None,
        "fool_ci_low": None,
        "fool_ci_high": None,
    }


def pseudonym(player_id: str | None, nickname: str | None) -> str:
    if nickname:
        return nickname
    if not player_id:
        return ""
    return "anon-" + hashlib.sha256(player_id.encode()).hexdigest()[:8]  # never the cookie's id


def export_rows(session: Session, room_code: str | None = None) -> Iterator[dict]:
    query = (
        select(Guess, Player.nickname)
        .outerjoin(Player, Player.id == Guess.player_id)
        .order_by(Guess.id)
        .execution_options(yield_per=1000)
    )
    if room_code is not None:
        query = query.where(Guess.room_code == room_code)
    for guess, nickname in session.execute(query):
        yield {
            "guess_id": guess.id,
            "created_at": guess.created_at.isoformat(timespec="seconds") + "Z",
            "round_id": guess.round_id,
            "mode": guess.mode,
            "difficulty": guess.difficulty,
            "model": guess.model,
            "temperature": guess.temperature,
            "passage_length": guess.passage_length,
            "choice": guess.choice,
            "correct": guess.correct,
            "player": pseudonym(guess.player_id, nickname),
            "room_code": guess.room_code or "",
        }


def csv_text(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS))
    writer.writeheader()
    for i, row in enumerate(rows):
        # a spreadsheet must not run a formula a player typed as a nickname
        if str(row["player"]).startswith(("=", "+", "-", "@")):
            row = {**row, "player": "'" + row["player"]}
        writer.writerow({**row, "correct": str(row["correct"]).lower()})
        if i % 500 == 499:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def leaderboard(session: Session, limit: int = 20) -> list[dict]:
    players = session.scalars(
        select(Player)
        .where(Player.guesses > 0)
        .order_by(Player.score.desc(), Player.best_streak.desc(), Player.guesses)
        .limit(limit)
    ).all()
    return [
        {
            "nickname": pseudonym(p.id, p.nickname),
            "guesses": p.guesses,
            "correct": p.correct,
            "accuracy": p.correct / p.guesses if p.guesses else None,
            "best_streak": p.best_streak,
            "score": p.score,
        }
        for p in players
    ]


def leaderboards(session: Session) -> dict:
    """Players by score and models by fool rate: /api/leaderboard and the leaderboard page."""
    return {"players": leaderboard(session), "models": compute_stats(session)["fool_leaderboard"]}
