"""app/game/rounds.py, played through the API: fair, once only, nothing told before the guess,
everything after; the hot path's statements."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.corpus import TEST_PLAYS
from app.db import Player, Round, utcnow
from app.game import COPY_LIMIT, LENGTH_TOLERANCE, Recipe, regenerate, rounds
from app.game.players import KnownPlayers, PlayerClaim
from app.web.schemas import GuessResponse
from tests.conftest import BOTH
from tests.playing import new_round, stored

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


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
    recipe = Recipe.of_stored(passage)
    state = client.app.state.realornn
    generator = state.models[passage.model].generator
    assert recipe.scaffold is not None  # written on its excerpt's scaffold
    assert regenerate(generator, recipe, state.pool.lexicon) == passage.text


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


def play_a_round(client) -> tuple[dict, dict]:
    body = new_round(client)
    guess = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0})
    assert guess.status_code == 200, guess.text
    return body, guess.json()


def sqlite_only(client) -> None:
    if not client.app.state.realornn.game_writes.holds:
        pytest.skip("SQLite's held connection and its prepared statements")


def test_the_hot_path_runs_its_statements_on_the_driver(client):
    from app.game import pool, rounds

    sqlite_only(client)
    writes = client.app.state.realornn.game_writes
    play_a_round(client)
    with writes.transaction() as connection:  # the held connection, kept between requests
        ran = connection.prepared
    hot = [pool._TAKE, rounds._INSERT_ROUND, rounds._TAKE_ROUND, rounds._REVEALED_PASSAGE]
    assert all(any(statement is other for other in ran) for statement in hot)


def test_rounds_and_guesses_answer_alike_through_plain_sqlalchemy(client):
    """As on PostgreSQL: no held connection, every statement through SQLAlchemy Core."""
    sqlite_only(client)
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
    # the only model is an n-gram: easy plays it at 0.8, medium at 1.0, hard falls back to both
    for difficulty, temperatures in (("easy", {0.8}), ("medium", {1.0})):
        for _ in range(4):
            body = new_round(client, difficulty=difficulty)
            _, passage = stored(client, body["round_id"])
            assert passage.temperature in temperatures


def test_a_refused_guess_stores_nothing_not_even_the_new_player_it_would_have_made(client):
    state = client.app.state.realornn

    def players() -> int:
        with state.sessions() as session:
            return session.scalar(select(func.count()).select_from(Player))

    body = new_round(client)
    before = players()
    with pytest.raises(rounds.RoundNotFound):
        rounds.play_guess(state.game_writes, "no-such-round", 0, claimed_player=None)
    with pytest.raises(rounds.BadChoice, match="choice must be 0 or 1"):
        rounds.play_guess(state.game_writes, body["round_id"], "real", claimed_player=None)
    assert players() == before  # the anonymous players these guesses made were rolled back
    round_, _ = stored(client, body["round_id"])
    assert round_.guessed_at is None  # still open for its player's guess


def test_a_solo_round_is_served_from_the_bank_to_the_player_it_names(client, pool_waiter):
    state = client.app.state.realornn
    pool_waiter(client, ready=1)
    known = KnownPlayers()
    first = rounds.serve_round(
        state.game_writes, state.pool, state.pool.keys, mode="single", difficulty="mixed",
        ttl_seconds=60, claimed_player=None, known=known,
    )  # fmt: skip
    assert first is not None and first.player.new
    again = rounds.serve_round(
        state.game_writes, state.pool, state.pool.keys, mode="pair", difficulty="mixed",
        ttl_seconds=60, claimed_player=first.player.id, known=known,
    )  # fmt: skip
    assert again is not None and again.player == PlayerClaim(first.player.id, new=False)
    shown = rounds.shown_round(again.values, again.passage)
    assert set(shown) == {"round_id", "mode", "question", "passages", "expires_at"}
    assert sorted(p["text"] for p in shown["passages"]) == sorted(
        [again.passage.text, again.passage.real_text]
    )
    round_, _ = stored(client, shown["round_id"])
    assert round_.player_id == first.player.id and round_.mode == "pair"
