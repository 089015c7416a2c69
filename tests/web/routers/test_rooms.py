"""app/web/routers/rooms.py: who may do what (401 and 403 from the tokens), codes, the QR code,
and the cookies the pages use."""

from fastapi.testclient import TestClient

from tests.conftest import BOTH
from tests.playing import bearer, join, new_room

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


def test_only_the_host_runs_the_room(server):
    code, host = new_room(server)
    other_code, other_host = new_room(server)
    player = join(server, code, "Dee")
    for path in ("rounds", "end", "export.csv"):
        method = server.get if path.startswith("export") else server.post
        assert method(f"/api/rooms/{code}/{path}").status_code == 401
        assert method(f"/api/rooms/{code}/{path}", headers=bearer(player)).status_code == 403
        assert method(f"/api/rooms/{code}/{path}", headers=bearer(other_host)).status_code == 403
    round_id = server.post(f"/api/rooms/{code}/rounds", headers=bearer(host)).json()["round_id"]
    reveal = f"/api/rooms/{code}/rounds/{round_id}/reveal"
    assert server.post(reveal, headers=bearer(player)).status_code == 403
    assert server.post(reveal).status_code == 401
    vote = f"/api/rooms/{code}/rounds/{round_id}/votes"
    assert server.post(vote, json={"choice": 0}).status_code == 401
    assert server.post(vote, json={"choice": 0}, headers=bearer(host)).status_code == 403
    assert server.post(vote, json={"choice": 0}, headers=bearer(other_host)).status_code == 403
    _ = other_code


def test_room_codes_are_case_insensitive_and_the_qr_code_is_svg(server):
    code, _ = new_room(server)
    assert server.get(f"/api/rooms/{code.lower()}").json()["code"] == code
    qr = server.get(f"/api/rooms/{code}/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml") and "<svg" in qr.text


def test_the_pages_use_cookies_so_no_token_is_handled_in_javascript(server):
    browser = TestClient(server.app)
    created = browser.post("/api/rooms", json={})
    code = created.json()["code"]
    cookie = created.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert browser.get(f"/api/rooms/{code}").json()["you"] == {"role": "host"}
    phone = TestClient(server.app)
    phone.post(f"/api/rooms/{code}/players", json={"nickname": "Eve"})
    assert phone.get(f"/api/rooms/{code}").json()["you"]["role"] == "player"
    assert phone.post(f"/api/rooms/{code}/rounds").status_code == 403


def test_a_nickname_with_a_control_character_cannot_join(server):
    code, _ = new_room(server)
    refused = server.post(f"/api/rooms/{code}/players", json={"nickname": "Eve\u200b"})
    assert refused.status_code == 422
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", "nickname"] and "ZERO WIDTH SPACE" in error["msg"]
    joined = server.post(f"/api/rooms/{code}/players", json={"nickname": "\uff25ve"})
    assert joined.status_code == 201 and joined.json()["nickname"] == "Eve"
