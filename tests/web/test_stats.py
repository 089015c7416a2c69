"""Statistics with Wilson intervals, and the export of every guess."""

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import Guess, Round
from app.game import wilson_interval
from app.web.main import create_app
from app.web.statistics import EXPORT_COLUMNS


def layout_of(client: TestClient, round_id: str) -> list[str]:
    """The round's passages in the order shown, "real" or "generated" (single: one)."""
    with client.app.state.realornn.sessions() as session:
        return session.get(Round, round_id).layout


@pytest.fixture(scope="module")
def played(tmp_path_factory, ngram_models_dir, settings_factory):
    """A fresh server where one player made 3 right and 2 wrong guesses."""
    settings = settings_factory(tmp_path_factory.mktemp("data"), ngram_models_dir)
    with TestClient(create_app(settings)) as client:
        client.put("/api/players/me", json={"nickname": "=cmd|calc"})
        for i in range(5):
            mode = "pair" if i < 3 else "single"
            body = client.post("/api/rounds", json={"mode": mode}).json()
            layout = layout_of(client, body["round_id"])
            answer = layout.index("real") if mode == "pair" else layout[0]
            if i in (1, 4):  # wrong on purpose
                answer = 1 - answer if mode == "pair" else {"real": "generated"}.get(answer, "real")
            client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": answer})
        yield client


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


def test_the_csv_export_has_the_documented_columns_and_is_formula_safe(played):
    response = played.get("/api/export/guesses.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert sum(row["correct"] == "true" for row in rows) == 3
    assert all(row["player"] == "'=cmd|calc" for row in rows)  # no formula in a spreadsheet


def test_the_json_export_matches_the_csv(played):
    body = played.get("/api/export/guesses.json").json()
    assert body["columns"] == EXPORT_COLUMNS
    assert len(body["guesses"]) == 5
    assert [g["correct"] for g in body["guesses"]].count(True) == 3
    assert {g["mode"] for g in body["guesses"]} == {"pair", "single"}


def test_the_leaderboard_ranks_players_and_models(played):
    board = played.get("/api/leaderboard").json()
    assert board["players"][0]["nickname"] == "=cmd|calc"
    assert board["players"][0]["score"] == 3
    assert board["models"][0]["model"] == "char-7gram-kn"


def test_the_leaderboard_page_lists_anonymous_players_after_better_ones(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir)

    def guess_right(client: TestClient) -> None:
        body = client.post("/api/rounds", json={"mode": "pair"}).json()
        real = layout_of(client, body["round_id"]).index("real")
        client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": real})

    with TestClient(create_app(settings)) as named:
        anonymous = TestClient(named.app)  # a second player (its own cookie), no nickname
        named.put("/api/players/me", json={"nickname": "Rosalind"})
        guess_right(anonymous)
        guess_right(named)
        guess_right(named)
        rows = [row["nickname"] for row in named.get("/api/leaderboard").json()["players"]]
        page = named.get("/leaderboard").text
    assert rows[0] == "Rosalind" and rows[1].startswith("anon-")  # 2 right answers, then 1
    assert page.index("Rosalind") < page.index(rows[1])  # the page shows both, in that order
    assert "by right answers" in page


def test_the_stats_page_draws_charts_without_network(played):
    page = played.get("/stats")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "")
    assert "https://" not in page.text
