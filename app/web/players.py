"""Anonymous players: a random id in a signed, HttpOnly, SameSite cookie."""

import secrets
from functools import cache, lru_cache

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from app.db import Player

COOKIE = "realornn_player"
COOKIE_MAX_AGE = 365 * 24 * 3600


@cache  # one per key: building one derives its signing key, a cost on every request
def serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="realornn.player")


def player_id_from_cookie(request: Request, secret_key: str) -> str | None:
    raw = request.cookies.get(COOKIE)
    return verified_player_id(raw, secret_key) if raw else None


# A player sends the same cookie with every request, and checking its signature (an HMAC) is
# a pure function of the cookie and the key: remembered, a round and a guess skip it. Bounded,
# so a flood of made-up cookies only evicts.
@lru_cache(maxsize=16_384)
def verified_player_id(raw: str, secret_key: str) -> str | None:
    try:
        value = serializer(secret_key).loads(raw)
    except BadSignature:
        return None  # forged or from another server: a new anonymous player
    return value if isinstance(value, str) else None


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


_PLAYERS = Player.__table__
_PLAYER_EXISTS = select(_PLAYERS.c.id).where(_PLAYERS.c.id == bindparam("player_id"))


def ensure_player(
    session: Session | Connection,
    request: Request,
    response: Response,
    secret_key: str,
    known: KnownPlayers | None = None,
) -> str:
    """The id of the cookie's player; a new anonymous player (and its cookie) when there is no
    valid cookie or its player is not in the database. Two small Core statements at most, none
    for a player in `known`: the game's hot path calls this on every round and guess."""
    player_id = player_id_from_cookie(request, secret_key)
    if player_id and known is not None and player_id in known:
        return player_id
    if player_id and session.execute(_PLAYER_EXISTS, {"player_id": player_id}).first():
        if known is not None:
            known.add(player_id)
        return player_id
    player_id = secrets.token_urlsafe(16)
    session.execute(insert(_PLAYERS), {"id": player_id})
    response.set_cookie(
        COOKIE,
        serializer(secret_key).dumps(player_id),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return player_id


def get_or_create_player(
    session: Session, request: Request, response: Response, secret_key: str
) -> Player:
    player = session.get(Player, ensure_player(session, request, response, secret_key))
    assert player is not None  # just found or made in this transaction
    return player


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
