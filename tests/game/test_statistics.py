"""app/game/statistics.py: Wilson intervals and tallies, and the statistics of a played server."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Guess, Round
from app.game import length_bucket, saw_generated, tally, wilson_interval
from app.web.main import create_app
from tests.conftest import BOTH
from tests.playing import layout_of

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


def test_wilson_matches_published_values():
    # Newcombe (1998), and the classic 0-of-n case where p +- 1.96 se collapses to [0, 0]
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(5, 5) == pytest.approx((0.5655, 1.0), abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_a_tally_groups_by_key_with_accuracy_and_fool_rate():
    rows = tally([("a", True), ("b", False), ("a", False), ("a", True)])
    assert [r["key"] for r in rows] == ["a", "b"]
    a = rows[0]
    assert (a["guesses"], a["correct"], a["fooled"]) == (3, 2, 1)
    assert a["accuracy"] == pytest.approx(2 / 3) and a["fool_rate"] == pytest.approx(1 / 3)
    assert a["ci_low"] < a["accuracy"] < a["ci_high"]


def test_lengths_fall_in_buckets():
    assert [length_bucket(n) for n in (100, 300, 499, 500, 5000)] == [
        "under 300",
        "300-499",
        "300-499",
        "500 and over",
        "500 and over",
    ]


def test_a_guess_saw_the_model_in_every_pair_round_and_in_single_rounds_that_showed_it():
    assert saw_generated("pair", "0", True) and saw_generated("pair", "1", False)
    assert saw_generated("single", "generated", True)  # shown the model's text, rightly so called
    assert saw_generated("single", "real", False)  # shown the model's text, fooled
    assert not saw_generated("single", "real", True)  # shown the real excerpt
    assert not saw_generated("single", "generated", False)  # shown the real excerpt, doubted it


# -- the statistics of a server that has been played --------------------------------------
def test_stats_count_every_guess_with_wilson_intervals(played):
    stats = played.get("/api/stats").json()
    overall = stats["overall"]
    assert (overall["guesses"], overall["correct"]) == (5, 3)
    assert overall["accuracy"] == pytest.approx(0.6)
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx(wilson_interval(3, 5))
    assert {row["key"]: row["guesses"] for row in stats["by_mode"]} == {"pair": 3, "single": 2}
    assert sum(row["guesses"] for row in stats["by_length"]) == 5
    # by model and temperature: the guesses made with the model's passage on screen, told by
    # the rounds' layouts (a single round shows layout[0])
    with played.app.state.realornn.sessions() as session:
        guesses = session.execute(select(Round.mode, Round.layout, Guess.correct).join(Guess)).all()
    seen = [ok for mode, layout, ok in guesses if mode == "pair" or layout[0] == "generated"]
    assert sum(row["guesses"] for row in stats["by_temperature"]) == len(seen)
    (model,) = stats["by_model"]
    assert model["key"] == "char-7gram-kn" and model["guesses"] == len(seen)
    (fool,) = stats["fool_leaderboard"]
    assert fool["fooled"] == seen.count(False) and fool["guesses"] == len(seen)


def test_single_rounds_count_for_a_model_only_when_its_passage_was_shown(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir)
    answered: dict[tuple[str, str], int] = {}  # (passage shown, choice) -> guesses
    with TestClient(create_app(settings)) as client:
        for _ in range(60):  # the side shown is random: play until each case came twice
            body = client.post("/api/rounds", json={"mode": "single"}).json()
            shown = layout_of(client, body["round_id"])[0]
            choice = "real" if answered.get((shown, "real"), 0) <= answered.get(
                (shown, "generated"), 0
            ) else "generated"  # fmt: skip
            client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": choice})
            answered[shown, choice] = answered.get((shown, choice), 0) + 1
            if len(answered) == 4 and min(answered.values()) >= 2:
                break
        stats = client.get("/api/stats").json()
    assert len(answered) == 4 and min(answered.values()) >= 2
    with_model = answered["generated", "real"] + answered["generated", "generated"]
    assert stats["overall"]["guesses"] == sum(answered.values())
    (model,) = stats["by_model"]
    assert model["guesses"] == with_model
    assert model["correct"] == answered["generated", "generated"]
    (fool,) = stats["fool_leaderboard"]  # fooled: the generated passage called real
    assert (fool["guesses"], fool["fooled"]) == (with_model, answered["generated", "real"])
    assert sum(row["guesses"] for row in stats["by_temperature"]) == with_model


def test_the_leaderboard_ranks_players_and_models(played):
    board = played.get("/api/leaderboard").json()
    assert board["players"][0]["nickname"] == "=cmd|calc"
    assert board["players"][0]["score"] == 3
    assert board["models"][0]["model"] == "char-7gram-kn"
