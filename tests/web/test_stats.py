"""Statistics with Wilson intervals, and the export of every guess."""

import csv
import io

import pytest
from fastapi.testclient import TestClient

from app.db import Round
from app.game import wilson_interval
from app.web.main import create_app
from app.web.statistics import EXPORT_COLUMNS


@pytest.fixture(scope="module")
def played(tmp_path_factory, ngram_models_dir, settings_factory):
    """A fresh server where one player made 3 right and 2 wrong guesses."""
    settings = settings_factory(tmp_path_factory.mktemp("data"), ngram_models_dir)
    with TestClient(create_app(settings)) as client:
        client.put("/api/players/me", json={"nickname": "=cmd|calc"})
        state = client.app.state.realornn
        for i in range(5):
            mode = "pair" if i < 3 else "single"
            body = client.post("/api/rounds", json={"mode": mode}).json()
            with state.sessions() as session:
                layout = session.get(Round, body["round_id"]).layout
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
    assert sum(row["guesses"] for row in stats["by_temperature"]) == 5
    assert sum(row["guesses"] for row in stats["by_length"]) == 5
    (model,) = stats["by_model"]
    assert model["key"] == "char-7gram-kn"
    (fool,) = stats["fool_leaderboard"]
    assert fool["fooled"] == 2 and fool["fool_rate"] == pytest.approx(0.4)


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
        with client.app.state.realornn.sessions() as session:
            real = session.get(Round, body["round_id"]).layout.index("real")
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
