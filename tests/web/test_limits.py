"""What one client may send: 413 for a large body, 415 for a body that is not JSON, and rate
limits per player and per address (429 with Retry-After) that a class of players never meets."""

import pytest
from fastapi.testclient import TestClient

from app.web.limits import POLICIES, RateLimited, RateLimiter
from app.web.main import create_app


@pytest.fixture(scope="module")
def limited(tmp_path_factory, ngram_models_dir, settings_factory) -> TestClient:
    """A server of its own: the limits count from zero."""
    settings = settings_factory(
        tmp_path_factory.mktemp("limits"), ngram_models_dir, rate_limits=True
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_body_over_the_limit_gets_413_naming_the_body(client):
    response = client.post("/api/rounds", json={"mode": "pair", "model": "x" * 20_000})
    assert response.status_code == 413
    assert response.json() == {"detail": "body: larger than 16384 bytes"}
    assert response.headers["x-frame-options"] == "DENY"  # the security headers are on it too


def test_a_chunked_body_without_length_is_held_to_the_limit(client):
    def chunks():
        for _ in range(40):
            yield b" " * 1000

    response = client.post(
        "/api/rounds", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["detail"].startswith("body:")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_gets_415_naming_the_content_type(client, content_type):
    response = client.post(
        "/api/rounds", content=b'{"mode": "pair"}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert detail.startswith("content-type: ") and "application/json" in detail


def test_a_body_with_no_content_type_gets_415(client):
    response = client.post("/api/rounds", content=b'{"mode": "pair"}')
    assert response.status_code == 415
    assert response.json()["detail"].startswith("content-type: missing")


def test_a_cross_site_form_post_cannot_end_a_room(client):
    room = client.post("/api/rooms", json={}).json()
    response = client.post(
        f"/api/rooms/{room['code']}/end",
        content=b"",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert client.get(f"/api/rooms/{room['code']}").json()["status"] != "ended"


def test_json_bodies_and_empty_posts_pass(client):
    assert client.post("/api/rounds", json={"mode": "pair"}).status_code == 201
    response = client.post(
        "/api/rounds", content=b"{}", headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201
    room = client.post("/api/rooms", json={}).json()
    started = client.post(  # the host's buttons post no body and no content type
        f"/api/rooms/{room['code']}/rounds",
        headers={"authorization": f"Bearer {room['host_token']}"},
    )
    assert started.status_code == 201


def test_a_scripted_player_gets_429_with_retry_after(limited):
    burst = POLICIES["rounds"].per_player.split(";")[0]  # "20/10second"
    allowed = int(burst.split("/")[0])
    statuses = [limited.post("/api/rounds", json={}).status_code for _ in range(allowed + 1)]
    assert statuses[:allowed] == [201] * allowed
    response = limited.post("/api/rounds", json={})
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 10
    assert response.json()["detail"].startswith(f"rate limit: at most {allowed} rounds per 10")
    assert "one player" in response.json()["detail"]
    # another player behind the same address plays on: the address's limit is wider
    other = TestClient(limited.app)
    assert other.post("/api/rounds", json={}).status_code == 201


def test_a_refused_request_is_not_counted(limited):
    """A client told to wait that keeps knocking does not push its window further out."""
    limiter = RateLimiter()
    for _ in range(20):
        limiter.hit("rooms", player=None, address="10.0.0.1")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.hit("rooms", player=None, address="10.0.0.1")
    window = limiter.items["rooms", "address"][0]
    stats = limiter.limiter.get_window_stats(window, "rooms", "address", "10.0.0.1")
    assert stats.remaining == 0  # 20 counted, not 25
    limiter.hit("rooms", player=None, address="10.0.0.2")  # another address is unaffected


def test_a_client_without_cookies_is_held_by_its_address(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path, ngram_models_dir, pool_refill="off", rate_limits=True)
    with TestClient(create_app(settings)) as client:
        statuses = []
        for _ in range(21):  # rooms: 20 per 10 s from one address
            client.cookies.clear()
            statuses.append(client.post("/api/rooms", json={}).status_code)
        assert statuses == [201] * 20 + [429]
        assert "one address" in client.post("/api/rooms", json={}).json()["detail"]


def test_a_class_behind_one_address_joins_and_votes_without_a_429(limited):
    """100 phones behind a school's one address join in the same seconds and all vote."""
    room = limited.post("/api/rooms", json={}).json()
    code, host = room["code"], {"authorization": f"Bearer {room['host_token']}"}
    phones = []
    for number in range(100):
        joined = limited.post(f"/api/rooms/{code}/players", json={"nickname": f"s{number}"})
        assert joined.status_code == 201, joined.text
        phones.append({"authorization": f"Bearer {joined.json()['player_token']}"})
    round_id = limited.post(f"/api/rooms/{code}/rounds", headers=host).json()["round_id"]
    for phone in phones:
        vote = limited.post(
            f"/api/rooms/{code}/rounds/{round_id}/votes", json={"choice": 0}, headers=phone
        )
        assert vote.status_code == 201, vote.text


def test_rate_limits_off_lets_a_script_through(tmp_path, ngram_models_dir, settings_factory):
    settings = settings_factory(tmp_path, ngram_models_dir, pool_refill="off", rate_limits=False)
    with TestClient(create_app(settings)) as client:
        assert all(client.post("/api/rooms", json={}).status_code == 201 for _ in range(30))


def test_a_bad_storage_uri_is_refused_at_start():
    with pytest.raises(Exception, match="nosuch"):
        RateLimiter("nosuch://x")
