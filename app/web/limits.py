"""What one client may send: a body size limit (413), JSON bodies only (415: no cross-site form
posts), and rate limits per player and per address (429 with Retry-After).

The rate limits are moving windows of the `limits` library, two per action: a burst over 10
seconds and a rate over a minute. They are set far above what a person can click (a player
reads a passage before each guess: a fast one makes a round every 2-3 s, 4 in 10 s) and low
enough that a script cannot flood the database. Per address they are wider still, because a
whole class may sit behind one school's address (100 phones joining a room in the same 10 s).
"""

import json
import math
import time
from dataclasses import dataclass
from hashlib import blake2b
from typing import Literal

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.cookies import player_id_from_cookie, room_tokens

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
JSON_TYPES = ("application/json",)

Action = Literal["rounds", "guesses", "samples", "streams", "joins", "votes", "rooms", "events"]


@dataclass(frozen=True)
class Policy:
    what: str  # the action in a sentence: "rounds", "votes"
    per_player: str  # limits' notation: "20/10second;120/minute"; "" = no per-player limit
    per_address: str


POLICIES: dict[Action, Policy] = {
    # solo game: a round and its guess every 0.5 s for 10 s, one a second for a minute
    "rounds": Policy("rounds", "20/10second;60/minute", "600/10second;2400/minute"),
    "guesses": Policy("guesses", "20/10second;60/minute", "600/10second;2400/minute"),
    # the explorer: each sample is up to 2000 characters of generation, the costliest request
    "samples": Policy("samples", "10/10second;60/minute", "60/10second;300/minute"),
    "streams": Policy("streams", "5/10second;30/minute", "30/10second;150/minute"),
    # the classroom: a class behind one address joins and votes within seconds of each other
    "joins": Policy("joins", "", "200/10second;600/minute"),
    "votes": Policy("votes", "10/10second;60/minute", "600/10second;2400/minute"),
    "rooms": Policy("rooms", "", "20/10second;60/minute"),
    # a phone reconnects its room's event stream after a drop; a class opens them all at once
    "events": Policy("event streams", "10/10second;60/minute", "300/10second;1200/minute"),
}


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """Counts each (action, player) and (action, address) in moving windows, in memory or in
    the store named by RATE_LIMIT_STORAGE (shared by the replicas)."""

    def __init__(self, storage_uri: str = "memory://"):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.items: dict[tuple[Action, str], list[RateLimitItem]] = {}
        for action, policy in POLICIES.items():
            per_player = parse_many(policy.per_player) if policy.per_player else []
            self.items[action, "player"] = per_player
            self.items[action, "address"] = parse_many(policy.per_address)

    def hit(self, action: Action, *, player: str | None, address: str) -> None:
        """Count one request, or raise RateLimited (nothing counted) when a window is full."""
        checks = [("address", address)] + ([("player", player)] if player else [])
        for scope, who in checks:
            for item in self.items[action, scope]:
                if not self.limiter.test(item, action, scope, who):
                    reset_at = self.limiter.get_window_stats(item, action, scope, who).reset_time
                    retry_after = max(1, math.ceil(reset_at - time.time()))
                    raise RateLimited(
                        f"rate limit: at most {item.amount} {POLICIES[action].what} per "
                        f"{describe_window(item)} from one {scope}; try again in {retry_after} s",
                        retry_after,
                    )
        for scope, who in checks:
            for item in self.items[action, scope]:
                self.limiter.hit(item, action, scope, who)


def describe_window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    return "minute" if seconds == 60 else f"{seconds} seconds"


def anonymous(token: str) -> str:
    """A room token is a secret: the limiter keeps a hash of it, never the token."""
    return blake2b(token.encode(), digest_size=12).hexdigest()


def rate_limited(action: Action):
    """A route dependency: count this request against the caller's limits, 429 when over.
    The player is the signed player cookie, or the room token for the classroom's routes."""

    async def check(request: Request) -> None:
        state = request.app.state.realornn
        if state.rate_limiter is None:
            return
        code = request.path_params.get("code")
        if code is not None:
            tokens = room_tokens(request, code)
            player = anonymous(tokens[0]) if tokens else None
        else:
            player = player_id_from_cookie(request, state.secret_key)
        address = request.client.host if request.client else "unknown"
        try:
            state.rate_limiter.hit(action, player=player, address=address)
        except RateLimited as error:
            raise HTTPException(
                429, str(error), headers={"Retry-After": str(error.retry_after)}
            ) from None

    return check


class RequestLimits:
    """Pure ASGI middleware: bodies over `max_body_bytes` get 413 (counted as they arrive, so a
    chunked body without Content-Length is held to it too), and a body that is not JSON gets
    415, so no HTML form of another site can post to the API (a form can send only
    urlencoded, multipart or text/plain bodies)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 16_384):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope["headers"]}
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await refuse(send, 413, self.too_large())
            return
        messages: list[Message] = []
        size = 0
        while True:  # the API's bodies are tiny: read it here, then hand it on
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await refuse(send, 413, self.too_large())
                return
            if not message.get("more_body", False):
                break
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        media_type = content_type.split(";")[0].strip().lower()
        if (size or content_type) and not is_json(media_type):
            found = f"{media_type!r} is not accepted" if media_type else "missing"
            await refuse(send, 415, f"content-type: {found}; send the body as application/json")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def too_large(self) -> str:
        return f"body: larger than {self.max_body_bytes} bytes"


def is_json(media_type: str) -> bool:
    return media_type in JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
