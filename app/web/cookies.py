"""Cookies: the anonymous player's id in a signed, HttpOnly, SameSite cookie, and the classroom's
host and player tokens. The players themselves are the game's (app/game/players.py)."""

from functools import cache, lru_cache

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.game.classroom import normalise_code
from app.game.players import KnownPlayers, PlayerClaim, claim_player

COOKIE = "realornn_player"
COOKIE_MAX_AGE = 365 * 24 * 3600
HOST_COOKIE, PLAYER_COOKIE = "realornn_host_{}", "realornn_room_{}"  # .format(room code)
ROOM_COOKIE_MAX_AGE = 7 * 24 * 3600


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


def give_cookie(request: Request, response: Response, secret_key: str, claim: PlayerClaim) -> None:
    """Set the cookie of a player made for this request (one already known has it)."""
    if not claim.new:
        return
    response.set_cookie(
        COOKIE,
        serializer(secret_key).dumps(claim.id),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def ensure_player(
    session: Session | Connection,
    request: Request,
    response: Response,
    secret_key: str,
    known: KnownPlayers | None = None,
) -> str:
    """The id of the cookie's player; a new anonymous player (and its cookie) when there is no
    valid cookie or its player is not in the database (app.game.players.claim_player)."""
    claim = claim_player(session, player_id_from_cookie(request, secret_key), known)
    give_cookie(request, response, secret_key, claim)
    return claim.id


# -- the classroom -----------------------------------------------------------------------------
def room_tokens(request: Request, code: str) -> list[str]:
    """Bearer token first, then the page cookies of this room."""
    tokens = []
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        tokens.append(header[7:].strip())
    code = normalise_code(code)
    for name in (HOST_COOKIE.format(code), PLAYER_COOKIE.format(code)):
        if request.cookies.get(name):
            tokens.append(request.cookies[name])
    return [t for t in tokens if t]


def set_room_cookie(request: Request, response: Response, name: str, token: str) -> None:
    response.set_cookie(
        name,
        token,
        max_age=ROOM_COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
