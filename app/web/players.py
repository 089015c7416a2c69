"""Anonymous players: a random id in a signed, HttpOnly, SameSite cookie."""

import secrets
from functools import cache

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
    if not raw:
        return None
    try:
        value = serializer(secret_key).loads(raw)
    except BadSignature:
        return None  # forged or from another server: a new anonymous player
    return value if isinstance(value, str) else None


_PLAYERS = Player.__table__
_PLAYER_EXISTS = select(_PLAYERS.c.id).where(_PLAYERS.c.id == bindparam("player_id"))


def ensure_player(
    session: Session | Connection, request: Request, response: Response, secret_key: str
) -> str:
    """The id of the cookie's player; a new anonymous player (and its cookie) when there is no
    valid cookie or its player is not in the database. Two small Core statements at most: the
    game's hot path calls this on every round and guess."""
    player_id = player_id_from_cookie(request, secret_key)
    if player_id and session.execute(_PLAYER_EXISTS, {"player_id": player_id}).first():
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
