"""Rounds and guesses: fair, once only, nothing told before the guess, everything after."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import update

from app.corpus import TEST_PLAYS
from app.db import GeneratedPassage, Round, utcnow
from app.game import COPY_LIMIT, LENGTH_TOLERANCE, Recipe, regenerate
from app.web.players import COOKIE
from app.web.schemas import GuessResponse, RoundResponse


def new_round(client, **body):
    response = client.post("/api/rounds", json={"mode": "pair", **body})
    assert response.status_code == 201, response.text
    return response.json()


def stored(client, round_id) -> tuple[Round, GeneratedPassage]:
    state = client.app.state.realornn
    with state.sessions() as session:
        round_ = session.get(Round, round_id)
        return round_, session.get(GeneratedPassage, round_.passage_id)


def test_a_pair_round_shows_two_texts_and_nothing_else(client):
    body = new_round(client)
    assert set(body) == {"round_id", "mode", "question", "passages", "expires_at"}
    assert body["mode"] == "pair" and body["question"] == "Which is the real Shakespeare?"
    assert len(body["passages"]) == 2
    assert all(set(p) == {"text"} for p in body["passages"])
    assert len(body["round_id"]) >= 20  # random, not a counter


def test_round_ids_are_random(client):
    ids = {new_round(client)["round_id"] for _ in range(5)}
    assert len(ids) == 5


def test_the_fake_faces_its_real_excerpt_alike(client):
    body = new_round(client)
    round_, passage = stored(client, body["round_id"])
    shown = [p["text"] for p in body["passages"]]
    real, fake = passage.real_text, passage.text
    assert sorted(shown) == sorted([real, fake])
    assert passage.real_source["play_slug"] in TEST_PLAYS
    # same first speaker line, same ending, length within 10%, no long copy
    assert fake.split("\n", 1)[0] == real.split("\n", 1)[0]
    assert fake.endswith("\n") and not fake.endswith("\n\n")
    assert real.endswith("\n") and not real.endswith("\n\n")
    assert abs(len(fake) - len(real)) <= LENGTH_TOLERANCE * len(real)
    assert passage.longest_copied_span < COPY_LIMIT
    assert "\n\n\n" not in fake and all(line == line.rstrip() for line in fake.split("\n"))


def test_a_stored_passage_regenerates_exactly(client):
    body = new_round(client)
    _, passage = stored(client, body["round_id"])
    recipe = Recipe(
        passage.temperature,
        passage.top_k,
        passage.top_p,
        passage.seed,
        passage.prime,
        passage.requested_length,
        len(passage.real_text),
    )
    generator = client.app.state.realornn.models[passage.model].generator
    assert regenerate(generator, recipe) == passage.text


def test_the_real_passage_is_on_both_sides(client):
    sides = set()
    for _ in range(30):
        body = new_round(client)
        round_, _ = stored(client, body["round_id"])
        sides.add(round_.layout.index("real"))
        if sides == {0, 1}:
            break
    assert sides == {0, 1}


def test_a_right_guess_reveals_everything_and_scores(client):
    body = new_round(client)
    round_, passage = stored(client, body["round_id"])
    answer = round_.layout.index("real")
    before = client.get("/api/players/me").json()
    reveal = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": answer}).json()
    assert reveal["correct"] is True and reveal["answer"] == answer
    real, fake = reveal["passages"][answer], reveal["passages"][1 - answer]
    assert real["real"] is True and fake["real"] is False
    assert real["source"]["play"] and real["source"]["scene_label"] and real["source"]["speakers"]
    assert fake["source"]["model"] == "char-7gram-kn"
    assert fake["source"]["temperature"] == passage.temperature
    assert fake["source"]["seed"] == passage.seed
    for shown, revealed in zip(body["passages"], reveal["passages"], strict=True):
        assert len(revealed["surprisal"]["bits"]) == len(shown["text"])
        assert revealed["surprisal"]["model"] == "char-7gram-kn"
    assert "bits per character" in reveal["heatmap_explanation"]
    player = reveal["player"]
    assert player["guesses"] == before["guesses"] + 1
    assert player["score"] == before["score"] + 1
    assert player["streak"] == before["streak"] + 1


def test_the_reveal_shows_the_stored_surprisal_and_its_means(client):
    body = new_round(client)
    round_, passage = stored(client, body["round_id"])
    reveal = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0}).json()
    means = {}
    for side, revealed in zip(round_.layout, reveal["passages"], strict=True):
        bits = passage.real_bits if side == "real" else passage.generated_bits
        assert revealed["surprisal"]["bits"] == bits  # passed on from the database unchanged
        means[side] = sum(bits) / len(bits)
        assert revealed["surprisal"]["mean_bits"] == round(means[side], 3)
    assert f"real passage averages {means['real']:.2f} bits" in reveal["heatmap_explanation"]
    assert f"generated one {means['generated']:.2f}" in reveal["heatmap_explanation"]


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


def play_a_round(client) -> tuple[dict, dict]:
    body = new_round(client)
    guess = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
    assert guess.status_code == 200, guess.text
    return body, guess.json()


def test_the_hot_path_runs_its_statements_on_the_driver(client):
    from app.web import pool, rounds

    writes = client.app.state.realornn.game_writes
    play_a_round(client)
    with writes.transaction() as connection:  # the held connection, kept between requests
        ran = connection.prepared
    hot = [pool._TAKE, rounds._INSERT_ROUND, rounds._TAKE_ROUND, rounds._REVEALED_PASSAGE]
    assert all(any(statement is other for other in ran) for statement in hot)


def test_rounds_and_guesses_answer_alike_through_plain_sqlalchemy(client):
    """As on PostgreSQL: no held connection, every statement through SQLAlchemy Core."""
    writes = client.app.state.realornn.game_writes
    held_body, held_reveal = play_a_round(client)
    writes.holds = False
    try:
        body, reveal = play_a_round(client)
    finally:
        writes.holds = True
    round_, passage = stored(client, body["round_id"])
    assert round_.guessed_at is not None and round_.votes == 0
    assert [p["text"] for p in body["passages"]] == shown_in(round_, passage)
    assert set(reveal) == set(held_reveal) and set(body) == set(held_body)
    assert reveal["correct"] == (round_.layout[0] == "real")
    assert reveal["player"]["guesses"] == held_reveal["player"]["guesses"] + 1
    GuessResponse.model_validate(reveal)


def shown_in(round_, passage) -> list[str]:
    return [passage.real_text if side == "real" else passage.text for side in round_.layout]


def test_a_guess_by_a_new_player_sets_their_cookie(client, settings):
    from app.web.main import create_app

    body = new_round(client)  # made by another player
    with TestClient(create_app(settings)) as newcomer:
        response = newcomer.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
        assert response.status_code == 200, response.text
        assert response.headers["set-cookie"].startswith(COOKIE + "=")
        assert newcomer.get("/api/players/me").json()["guesses"] == 1


def test_a_wrong_guess_breaks_the_streak(client):
    body = new_round(client)
    round_, _ = stored(client, body["round_id"])
    wrong = 1 - round_.layout.index("real")
    reveal = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": wrong}).json()
    assert reveal["correct"] is False and reveal["player"]["streak"] == 0


def test_a_round_takes_one_guess_only(client):
    body = new_round(client)
    url = f"/api/rounds/{body['round_id']}/guess"
    assert client.post(url, json={"choice": 0}).status_code == 200
    second = client.post(url, json={"choice": 1})
    assert second.status_code == 409
    assert "already been guessed" in second.json()["detail"]


def test_concurrent_guesses_on_one_round_take_exactly_one(client):
    body = new_round(client)
    url = f"/api/rounds/{body['round_id']}/guess"
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda c: client.post(url, json={"choice": c % 2}).status_code, range(16))
        )
    assert sorted(codes) == [200] + [409] * 15


def test_single_mode_asks_real_or_rnn(client):
    body = new_round(client, mode="single")
    assert body["question"] == "Real or RNN?" and len(body["passages"]) == 1
    round_, _ = stored(client, body["round_id"])
    reveal = client.post(
        f"/api/rounds/{body['round_id']}/guess", json={"choice": round_.layout[0]}
    ).json()
    assert reveal["correct"] is True and reveal["answer"] == round_.layout[0]
    assert len(reveal["passages"]) == 1


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


def test_an_expired_round_is_409(client):
    body = new_round(client)
    state = client.app.state.realornn
    with state.sessions() as session, session.begin():
        session.execute(
            update(Round)
            .where(Round.id == body["round_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
    assert response.status_code == 409 and "expired" in response.json()["detail"]


def test_difficulty_picks_the_temperatures_of_its_preset(client):
    # the only model is an n-gram: easy plays it at 1.0, medium at 0.8, hard falls back to both
    for difficulty, temperatures in (("easy", {1.0}), ("medium", {0.8})):
        for _ in range(4):
            body = new_round(client, difficulty=difficulty)
            _, passage = stored(client, body["round_id"])
            assert passage.temperature in temperatures


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
