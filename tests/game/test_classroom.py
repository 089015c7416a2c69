"""app/game/classroom.py through the API: the whole flow, exactly-once votes, the timer, the
room's rules, and a restart in the middle of a lesson."""

import csv
import io
import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import Round, utcnow
from app.web.main import create_app
from tests.conftest import BOTH
from tests.playing import answer_of, bearer, join, new_room

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


def test_a_whole_lesson(server):
    code, host = new_room(server)
    players = [join(server, code, name) for name in ("Ann", "Ben", "Cat")]
    lobby = server.get(f"/api/rooms/{code}", headers=bearer(host)).json()
    assert lobby["status"] == "lobby" and lobby["players"] == 3
    assert lobby["you"] == {"role": "host"}

    started = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host))
    assert started.status_code == 201
    round_id = started.json()["round_id"]
    assert [set(p) for p in started.json()["passages"]] == [{"text"}, {"text"}]
    answer = answer_of(server, round_id)
    choices = [answer, answer, 1 - answer]  # two right, one wrong
    for token, choice in zip(players, choices, strict=True):
        response = server.post(
            f"/api/rooms/{code}/rounds/{round_id}/votes", json={"choice": choice},
            headers=bearer(token),
        )  # fmt: skip
        assert response.status_code == 201 and response.json()["accepted"] is True

    voting = server.get(f"/api/rooms/{code}").json()
    assert voting["status"] == "voting" and voting["round"]["votes"] == 3
    assert voting["round"]["reveal"] is None
    assert '"real"' not in json.dumps(voting) and "tally" not in json.dumps(voting)
    me = server.get(f"/api/rooms/{code}", headers=bearer(players[0])).json()["you"]
    assert me["vote"] == answer and me["correct"] is None and me["score"] == 0  # no tell yet

    revealed = server.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host))
    body = revealed.json()
    assert body["answer"] == answer and body["votes"] == 3 and body["correct"] == 2
    assert body["tally"][answer] == 2 and body["tally"][1 - answer] == 1
    assert body["passages"][answer]["real"] is True
    assert body["passages"][answer]["source"]["play"]
    assert len(body["passages"][0]["surprisal"]["bits"]) == len(
        started.json()["passages"][0]["text"]
    )
    again = server.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host))
    assert again.json() == body  # revealing twice changes nothing
    me = server.get(f"/api/rooms/{code}", headers=bearer(players[0])).json()["you"]
    assert me["correct"] is True and me["score"] == 1

    ended = server.post(f"/api/rooms/{code}/end", headers=bearer(host)).json()
    assert ended["status"] == "ended"
    accuracy = ended["summary"]["accuracy"]
    assert (accuracy["guesses"], accuracy["correct"]) == (3, 2)
    assert accuracy["ci_low"] < 2 / 3 < accuracy["ci_high"]
    assert ended["summary"]["top_students"][0]["correct"] == 1
    assert "<svg" in ended["summary"]["charts"]["by_model"]

    rows = list(csv.DictReader(io.StringIO(
        server.get(f"/api/rooms/{code}/export.csv", headers=bearer(host)).text
    )))  # fmt: skip
    assert len(rows) == 3 and {row["room_code"] for row in rows} == {code}
    assert sorted(row["player"] for row in rows) == ["Ann", "Ben", "Cat"]
    assert (
        len(server.get(f"/api/rooms/{code}/export.json", headers=bearer(host)).json()["votes"]) == 3
    )
    # room votes count in the global statistics, tagged with their room
    everything = server.get("/api/export/guesses.json").json()["guesses"]
    assert sum(g["room_code"] == code for g in everything) == 3


def test_one_vote_per_player_until_the_reveal(server):
    code, host = new_room(server)
    ann, ben = join(server, code, "Ann"), join(server, code, "Ben")
    round_id = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()["round_id"]
    vote = f"/api/rooms/{code}/rounds/{round_id}/votes"
    assert server.post(vote, json={"choice": 0}, headers=bearer(ann)).status_code == 201
    second = server.post(vote, json={"choice": 1}, headers=bearer(ann))
    assert second.status_code == 409 and "already voted" in second.json()["detail"]
    assert server.post(vote, json={"choice": 2}, headers=bearer(ben)).status_code == 422
    server.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host))
    late = server.post(vote, json={"choice": 0}, headers=bearer(ben))
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    assert server.get(f"/api/rooms/{code}").json()["round"]["votes"] == 1


def test_the_timer_closes_the_vote(server):
    code, host = new_room(server, timer_seconds=30)
    ann = join(server, code, "Ann")
    started = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()
    assert started["deadline"] is not None
    state = server.app.state.realornn
    with state.sessions() as session, session.begin():
        session.execute(
            update(Round)
            .where(Round.id == started["round_id"])
            .values(deadline=utcnow() - timedelta(seconds=1))
        )
    late = server.post(
        f"/api/rooms/{code}/rounds/{started['round_id']}/votes", json={"choice": 0},
        headers=bearer(ann),
    )  # fmt: skip
    assert late.status_code == 409 and "time is up" in late.json()["detail"]
    assert server.get(f"/api/rooms/{code}").json()["round"]["closed"] is True


def test_the_rules_of_the_room(server):
    code, host = new_room(server, rounds=1)
    join(server, code, "Ann")
    taken = server.post(f"/api/rooms/{code}/players", json={"nickname": "Ann"})
    assert taken.status_code == 409 and "nickname" in taken.json()["detail"]
    round_id = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()["round_id"]
    busy = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host))
    assert busy.status_code == 409 and "reveal it first" in busy.json()["detail"]
    server.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host))
    done = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host))
    assert done.status_code == 409 and "all 1 rounds" in done.json()["detail"]
    server.post(f"/api/rooms/{code}/end", headers=bearer(host))
    assert server.post(f"/api/rooms/{code}/players", json={"nickname": "Zed"}).status_code == 409
    assert server.get("/api/rooms/NOPE99").status_code == 404
    assert server.post("/api/rooms", json={"rounds": 0}).status_code == 422
    assert server.post("/api/rooms", json={"timer_seconds": 1}).status_code == 422
    assert server.post("/api/rooms", json={"model": "nope"}).status_code == 404


def test_a_restart_in_the_middle_of_a_lesson_loses_nothing(settings):
    with TestClient(create_app(settings)) as first:
        code, host = new_room(first)
        ann = join(first, code, "Ann")
        round_id = first.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()["round_id"]
        vote = f"/api/rooms/{code}/rounds/{round_id}/votes"
        assert first.post(vote, json={"choice": 0}, headers=bearer(ann)).status_code == 201
    with TestClient(create_app(settings)) as second:  # the same database, a new process
        ben = join(second, code, "Ben")
        assert second.post(vote, json={"choice": 1}, headers=bearer(ben)).status_code == 201
        assert second.post(vote, json={"choice": 1}, headers=bearer(ann)).status_code == 409
        body = second.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=bearer(host))
        assert body.json()["votes"] == 2


def test_a_rooms_round_cannot_be_guessed_through_the_solo_game(server):
    code, host = new_room(server)
    round_id = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()["round_id"]
    response = server.post(f"/api/rounds/{round_id}/guess", json={"choice": 0})
    assert response.status_code == 404 and "round_id" in response.json()["detail"]
    state = server.app.state.realornn
    with state.sessions() as session:
        assert session.get(Round, round_id).guessed_at is None  # still open for the room's vote
