"""The machine judge in the game: every passage is judged as it is made, the verdict comes with
the answer (never before the guess), and the statistics set it beside the players."""

import random

import pytest
from fastapi.testclient import TestClient

from app.corpus import sample_excerpt
from app.game.judge import Judge, JudgeConfig
from app.web.main import create_app
from tests.playing import folder_with, layout_of, new_round, stored


def reversed_lines(text: str) -> str:
    """A cheap fake: each spoken line's words in reverse order."""
    out = []
    for line in text.split("\n"):
        out.append(line if line.endswith(":") else " ".join(reversed(line.split(" "))))
    return "\n".join(out)


@pytest.fixture(scope="module")
def judged_client(tmp_path_factory, plays_corpus, settings_factory):
    from tests.conftest import SHIPPED_NGRAM

    folder = folder_with(tmp_path_factory.mktemp("judged") / "models", SHIPPED_NGRAM)
    reals = [sample_excerpt(plays_corpus, 300, seed=s, split="train").text for s in range(30)]
    judge = Judge.train(
        reals + [reversed_lines(t) for t in reals],
        [1] * 30 + [0] * 30,
        JudgeConfig(char_buckets=2**12, word_buckets=2**10),
    )
    judge.info.name = "tiny-judge"
    judge.info.figures = {  # as `realornn train judge` measures them, for the How page
        "held_out": {
            "pairs": 60,
            "accuracy": 0.9,
            "by_model": {"char-7gram-kn": {"pairs": 60, "accuracy": 0.9}},
        },
        "by_difficulty": {
            "easy": {"pairs": 30, "accuracy": 0.97},
            "medium": {"pairs": 30, "accuracy": 0.83},
        },
    }
    judge.save(folder / "judge" / "judge.safetensors")
    settings = settings_factory(tmp_path_factory.mktemp("data"), folder)
    with TestClient(create_app(settings)) as client:
        yield client


def test_every_served_passage_was_judged_as_it_was_made(judged_client):
    body = new_round(judged_client)
    _, passage = stored(judged_client, body["round_id"])
    judge = judged_client.app.state.realornn.models.judge
    assert passage.judge_model == "tiny-judge"
    assert passage.judge_real == pytest.approx(judge.score(passage.real_text), abs=1e-4)
    assert passage.judge_generated == pytest.approx(judge.score(passage.text), abs=1e-4)


def test_the_judges_verdict_comes_with_the_answer_and_never_before(judged_client):
    body = new_round(judged_client)
    round_id = body["round_id"]
    assert "judge" not in judged_client.post("/api/rounds", json={"mode": "pair"}).text
    assert "judge" not in judged_client.get(f"/api/rounds/{round_id}").text
    layout = layout_of(judged_client, round_id)
    answer = judged_client.post(f"/api/rounds/{round_id}/guess", json={"choice": 0}).json()
    said = answer["judge"]
    _, passage = stored(judged_client, round_id)
    real_first = layout.index("real") == 0
    real_looks_more_real = passage.judge_real > passage.judge_generated
    assert said["pick"] == (0 if real_first == real_looks_more_real else 1)
    assert said["correct"] is real_looks_more_real
    assert 0.5 <= said["confidence"] <= 1
    assert said["model"] == "tiny-judge"
    assert f"passage {said['pick'] + 1} was real" in said["says"]
    for shown in answer["passages"]:  # the recipe's constraints stay in the database
        assert "constraints" not in shown.get("source", {})


def test_a_single_rounds_verdict_is_real_or_generated(judged_client):
    body = new_round(judged_client, mode="single")
    answer = judged_client.post(
        f"/api/rounds/{body['round_id']}/guess", json={"choice": "real"}
    ).json()
    assert answer["judge"]["pick"] in ("real", "generated")
    shown = layout_of(judged_client, body["round_id"])[0]
    assert answer["judge"]["correct"] == (answer["judge"]["pick"] == shown)


def test_the_statistics_set_the_players_beside_the_judge_on_the_same_rounds(
    tmp_path, settings_factory, judged_client
):
    # a fresh database on the same models: only this test's guesses count
    models = judged_client.app.state.realornn.settings.models_dir
    settings = settings_factory(tmp_path, models)
    rng = random.Random(3)
    with TestClient(create_app(settings)) as client:
        player_right = judge_right = 0
        for _ in range(8):
            body = new_round(client, difficulty="easy")
            answer = client.post(
                f"/api/rounds/{body['round_id']}/guess", json={"choice": rng.randrange(2)}
            ).json()
            player_right += answer["correct"]
            judge_right += answer["judge"]["correct"]
        side = client.get("/api/stats").json()["human_vs_judge"]
    overall = side["overall"]
    assert overall["rounds"] == 8
    assert overall["players"]["correct"] == player_right
    assert overall["judge"]["correct"] == judge_right
    assert overall["judge"]["ci_low"] <= overall["judge"]["accuracy"] <= overall["judge"]["ci_high"]
    assert [row["key"] for row in side["by_difficulty"]] == ["easy"]
    assert [row["key"] for row in side["by_model"]] == ["char-7gram-kn"]


def test_without_a_judge_rounds_go_unjudged(client):
    body = new_round(client)
    answer = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0}).json()
    assert answer["judge"] is None
    side = client.get("/api/stats").json()["human_vs_judge"]
    assert side["overall"] is None and side["by_difficulty"] == []


def test_a_classroom_reveal_shows_the_judge_beside_the_room(judged_client):
    from tests.playing import answer_of, bearer, join, new_room

    code, host = new_room(judged_client)
    player = join(judged_client, code, "Ann")
    started = judged_client.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()
    round_id = started["round_id"]
    assert "judge" not in judged_client.get(f"/api/rooms/{code}", headers=bearer(host)).text
    judged_client.post(
        f"/api/rooms/{code}/rounds/{round_id}/votes",
        json={"choice": answer_of(judged_client, round_id)},
        headers=bearer(player),
    )
    revealed = judged_client.post(
        f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host)
    ).json()
    said = revealed["judge"]
    _, passage = stored(judged_client, round_id)
    assert said["model"] == "tiny-judge"
    assert said["correct"] is (passage.judge_real > passage.judge_generated)
    assert said["pick"] == (revealed["answer"] if said["correct"] else 1 - revealed["answer"])


def test_the_how_page_orders_the_levels_by_the_judges_measured_accuracy(judged_client):
    page = judged_client.get("/how").text
    assert 'id="fair"' in page and 'id="judge"' in page
    table = page[page.index('id="judge-table"') : page.index("</table>", page.index("judge-table"))]
    assert "60 held-out pairs" in table
    assert table.index("easy") < table.index("97%") < table.index("medium") < table.index("83%")
    assert "char-7gram-kn" in table and "90%" in table
    assert "not in order" not in page


def test_the_how_page_says_when_there_is_no_judge(client):
    page = client.get("/how").text
    assert "no machine judge" in page and 'id="judge-table"' not in page
