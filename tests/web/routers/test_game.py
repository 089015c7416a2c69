"""app/web/routers/game.py: the rounds API's answers and refusals, and the player's cookie."""

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.web.cookies import COOKIE
from app.web.schemas import GuessResponse, RoundResponse
from tests.conftest import BOTH
from tests.playing import new_round, stored

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


def test_a_pair_round_shows_two_texts_and_nothing_else(client):
    body = new_round(client)
    assert set(body) == {"round_id", "mode", "question", "passages", "expires_at"}
    assert body["mode"] == "pair" and body["question"] == "Which is the real Shakespeare?"
    assert len(body["passages"]) == 2
    assert all(set(p) == {"text"} for p in body["passages"])
    assert len(body["round_id"]) >= 20  # random, not a counter


def test_round_and_guess_answers_fit_their_documented_models(client):
    body = new_round(client)
    round_, _ = stored(client, body["round_id"])
    assert RoundResponse.model_validate(body).round_id == body["round_id"]
    # the time as FastAPI wrote it when it serialized the answer through the model
    assert body["expires_at"] == TypeAdapter(datetime).dump_python(round_.expires_at, mode="json")
    guess = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 1})
    assert guess.headers["content-type"] == "application/json"
    assert GuessResponse.model_validate(guess.json()).answer in (0, 1)
    single = new_round(client, mode="single")
    reveal = client.post(f"/api/rounds/{single['round_id']}/guess", json={"choice": "real"})
    assert GuessResponse.model_validate(reveal.json()).answer in ("real", "generated")


def test_a_guess_by_a_new_player_sets_their_cookie(client, settings):
    from app.web.main import create_app

    body = new_round(client)  # made by another player
    with TestClient(create_app(settings)) as newcomer:
        response = newcomer.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
        assert response.status_code == 200, response.text
        assert response.headers["set-cookie"].startswith(COOKIE + "=")
        assert newcomer.get("/api/players/me").json()["guesses"] == 1


@pytest.mark.parametrize(
    ("mode", "choice"), [("pair", 2), ("pair", "real"), ("pair", True), ("single", 0)]
)
def test_a_choice_that_does_not_fit_the_mode_is_422(client, mode, choice):
    body = new_round(client, mode=mode)
    response = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": choice})
    assert response.status_code == 422
    assert "choice" in str(response.json()["detail"])
    # the round is still open for a proper guess
    ok = 0 if mode == "pair" else "real"
    again = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": ok})
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "triple"}, "mode"),
        ({"mode": "pair", "difficulty": "brutal"}, "difficulty"),
        ({"mode": "pair", "colour": "red"}, "colour"),
    ],
)
def test_bad_round_requests_are_422_naming_the_field(client, body, field):
    response = client.post("/api/rounds", json=body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])


def test_an_unknown_model_or_round_is_404(client):
    response = client.post("/api/rounds", json={"mode": "pair", "model": "nope"})
    assert response.status_code == 404 and "model" in response.json()["detail"]
    response = client.post("/api/rounds/not-a-round/guess", json={"choice": 0})
    assert response.status_code == 404 and "round_id" in response.json()["detail"]


def test_malformed_json_is_a_4xx_not_a_500(client):
    response = client.post(
        "/api/rounds", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_the_player_cookie_is_signed_httponly_and_samesite(settings):
    from app.web.main import create_app

    with TestClient(create_app(settings)) as fresh:
        response = fresh.post("/api/rounds", json={"mode": "pair"})
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(COOKIE + "=")
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        me = fresh.get("/api/players/me").json()
        assert "set-cookie" not in fresh.get("/api/players/me").headers  # the same player
        fresh.cookies.set(COOKIE, "forged.value")
        stranger = fresh.get("/api/players/me")
        assert "set-cookie" in stranger.headers  # a bad signature makes a new player
        assert me["guesses"] == 0


def test_a_nickname_is_kept_and_checked(client):
    kept = client.put("/api/players/me", json={"nickname": "  Rosa   lind "}).json()
    assert kept["nickname"] == "Rosa lind"
    for bad in ("", "x" * 25, "\u0007bell"):
        response = client.put("/api/players/me", json={"nickname": bad})
        assert response.status_code == 422 and "nickname" in str(response.json()["detail"])


def test_a_nickname_is_normalised_and_control_characters_are_named(client):
    styled = client.put("/api/players/me", json={"nickname": "\uff32\uff4f\uff53\uff41"})
    assert styled.json()["nickname"] == "Rosa"  # full-width letters, NFKC
    for bad, named in (("a\x00b", "U+0000"), ("evil\u202egnp", "RIGHT-TO-LEFT OVERRIDE")):
        response = client.put("/api/players/me", json={"nickname": bad})
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "nickname"] and named in error["msg"]
    assert client.get("/api/players/me").json()["nickname"] == "Rosa"  # nothing stored
