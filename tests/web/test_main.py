"""app/web/main.py, the lifespan: no loadable checkpoint refuses to start; the settings reach
the game's database; the writer's load reaches the refiller; the classroom's refusals become
their HTTP statuses."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.game import classroom
from app.web.main import NoGenerators, create_app, room_error_status
from app.web.writer import IN_FLIGHT
from tests.playing import folder_with


def test_no_loadable_checkpoint_refuses_to_start(tmp_path, settings_factory):
    models = folder_with(tmp_path / "models")
    (models / "broken.safetensors").write_bytes(b"garbage")
    with (
        pytest.raises(NoGenerators, match="no generator loaded"),
        TestClient(create_app(settings_factory(tmp_path / "data", models))),
    ):
        pass


def test_the_sqlite_synchronous_setting_reaches_the_game_database(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(
        tmp_path / "data", ngram_models_dir, sqlite_synchronous="FULL", pool_refill="off"
    )
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.realornn.engine
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_each_refusal_of_the_classroom_has_its_status():
    assert room_error_status(classroom.RoomNotFound("code: no room 'X'")) == 404
    assert room_error_status(classroom.Unauthenticated("Authorization: ...")) == 401
    assert room_error_status(classroom.NotAllowed("only this room's host can do that")) == 403
    assert room_error_status(classroom.Conflict("this session has ended")) == 409
    assert room_error_status(classroom.RoomError("choice: must be 0 or 1")) == 400


def test_the_writer_reports_its_load_to_the_refiller_while_the_server_runs(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir, pool_refill="process")
    with TestClient(create_app(settings)) as client:
        busy = client.app.state.refill.players_busy
        assert IN_FLIGHT.shared is busy
        before = busy[1]
        assert client.post("/api/rounds", json={"mode": "pair"}).status_code == 201
        assert busy[0] == 0 and busy[1] > before  # a round went through the writer, and ended
    assert IN_FLIGHT.shared is None  # the server is gone: nobody to report to
