"""The export of every guess, one row each, as CSV or JSON: for the lecturer's spreadsheet and
the researcher's notebook. Players appear by their public pseudonym, never by their id."""

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Guess, Player
from app.game.players import pseudonym

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
