"""Anonymous players: a random id in a signed, HttpOnly, SameSite cookie."""

import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.db import Player

COOKIE = "realornn_player"
COOKIE_MAX_AGE = 365 * 24 * 3600


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


def get_or_create_player(
    session: Session, request: Request, response: Response, secret_key: str
) -> Player:
    player_id = player_id_from_cookie(request, secret_key)
    player = session.get(Player, player_id) if player_id else None
    if player is None:
        player = Player(id=secrets.token_urlsafe(16))
        session.add(player)
        session.flush()
        response.set_cookie(
            COOKIE,
            serializer(secret_key).dumps(player.id),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return player


def player_view(player: Player) -> dict:
    return {
        "nickname": player.nickname,
        "score": player.score,
        "streak": player.streak,
        "best_streak": player.best_streak,
        "guesses": player.guesses,
        "correct": player.correct,
    }
