"""app/web/cookies.py: the signed cookie's check is remembered, and the player it names is looked
up once."""

import pytest
from fastapi import Response
from starlette.requests import Request

from app.game.players import KnownPlayers
from app.web.cookies import (
    COOKIE,
    ensure_player,
    player_id_from_cookie,
    serializer,
    verified_player_id,
)

KEY = "test-secret"


def request_with_cookie(value: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={value}".encode())] if value else []
    return Request({"type": "http", "headers": headers, "scheme": "http", "path": "/"})


def test_a_signed_cookie_names_its_player_and_a_forged_one_nobody():
    cookie = serializer(KEY).dumps("player-1")
    assert player_id_from_cookie(request_with_cookie(cookie), KEY) == "player-1"
    assert player_id_from_cookie(request_with_cookie(cookie[:-2] + "xx"), KEY) is None
    assert player_id_from_cookie(request_with_cookie(cookie), "another key") is None
    assert player_id_from_cookie(request_with_cookie(None), KEY) is None


def test_a_cookie_is_checked_once_then_remembered():
    verified_player_id.cache_clear()
    cookie = serializer(KEY).dumps("player-2")
    for _ in range(3):
        assert verified_player_id(cookie, KEY) == "player-2"
    info = verified_player_id.cache_info()
    assert (info.misses, info.hits) == (1, 2)


class Recorder:
    """Stands in for a connection: records statements, answers SELECTs with `found`."""

    def __init__(self, found: bool):
        self.found, self.statements = found, []

    def execute(self, statement, params=None):
        self.statements.append(statement.__visit_name__)
        found = self.found

        class Result:
            def first(self):
                return ("row",) if found else None

        return Result()


@pytest.mark.parametrize("found", [True, False])
def test_ensure_player_looks_a_player_up_once_and_remembers_only_players_it_found(found):
    known = KnownPlayers()
    cookie = serializer(KEY).dumps("player-3")
    database = Recorder(found)
    player_id = ensure_player(database, request_with_cookie(cookie), Response(), KEY, known)
    if found:
        assert player_id == "player-3" and "player-3" in known
        assert database.statements == ["select"]
        again = Recorder(found=True)
        assert ensure_player(again, request_with_cookie(cookie), Response(), KEY, known) == (
            "player-3"
        )
        assert again.statements == []  # known: not looked up again
    else:  # not in the database: a new player, made in a transaction that may yet roll back
        assert player_id != "player-3" and player_id not in known
        assert database.statements == ["select", "insert"]
