"""Players: anonymous records with a score and a streak, found by the id their cookie names.

How the id travels (a signed cookie) is the web layer's business (app/web/cookies.py); here a
player is a row: claimed by an id that may be stale or forged, made afresh when it is not found.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from app.db import Player

BLANK_PLAYER = {  # what a page shows a visitor with no player yet (pages do not create players)
    "nickname": None,
    "score": 0,
    "streak": 0,
    "best_streak": 0,
    "guesses": 0,
    "correct": 0,
}


class KnownPlayers:
    """Ids this process has found in the players table, so that the hot path need not look
    again: players are never deleted. Only ids read back from the database go in (never one
    made in a transaction that may yet roll back). Bounded: past `limit` it starts afresh."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._ids: set[str] = set()

    def __contains__(self, player_id: str) -> bool:
        return player_id in self._ids

    def add(self, player_id: str) -> None:
        if len(self._ids) >= self.limit:
            self._ids.clear()
        self._ids.add(player_id)


@dataclass(frozen=True)
class PlayerClaim:
    """The player a request plays as: `new` when it was made just now (it needs a cookie)."""

    id: str
    new: bool


_PLAYERS = Player.__table__
_PLAYER_EXISTS = select(_PLAYERS.c.id).where(_PLAYERS.c.id == bindparam("player_id"))


def claim_player(
    session: Session | Connection, claimed_id: str | None, known: KnownPlayers | None = None
) -> PlayerClaim:
    """The player `claimed_id` names; a new anonymous player when it is None or names nobody in
    the database. Two small Core statements at most, none for a player in `known`: the game's
    hot path calls this on every round and guess."""
    if claimed_id and known is not None and claimed_id in known:
        return PlayerClaim(claimed_id, new=False)
    if claimed_id and session.execute(_PLAYER_EXISTS, {"player_id": claimed_id}).first():
        if known is not None:
            known.add(claimed_id)
        return PlayerClaim(claimed_id, new=False)
    player_id = secrets.token_urlsafe(16)
    session.execute(insert(_PLAYERS), {"id": player_id})
    return PlayerClaim(player_id, new=True)


def get_or_create_player(session: Session, claimed_id: str | None) -> tuple[Player, PlayerClaim]:
    """The claimed player as an ORM object (made when missing), to read or change."""
    claim = claim_player(session, claimed_id)
    player = session.get(Player, claim.id)
    assert player is not None  # just found or made in this transaction
    return player, claim


def player_view(player) -> dict:
    """The public fields of a Player, or of a row with the same names."""
    return {
        "nickname": player.nickname,
        "score": player.score,
        "streak": player.streak,
        "best_streak": player.best_streak,
        "guesses": player.guesses,
        "correct": player.correct,
    }


def existing_player_view(session: Session, player_id: str | None) -> dict:
    """The public fields of this player, or a blank player's when there is none."""
    player = session.get(Player, player_id) if player_id else None
    return dict(BLANK_PLAYER) if player is None else player_view(player)


def pseudonym(player_id: str | None, nickname: str | None) -> str:
    if nickname:
        return nickname
    if not player_id:
        return ""
    return "anon-" + hashlib.sha256(player_id.encode()).hexdigest()[:8]  # never the cookie's id
