"""app/web/routers/pages.py: the leaderboard and statistics pages."""

from fastapi.testclient import TestClient

from app.web.main import create_app
from tests.playing import layout_of


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
