"""The lifespan: checkpoints that fail are skipped, none at all refuses to start; the passage
pool fills in the background and survives a restart."""

import logging
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.db import GeneratedPassage, Round
from app.web.main import NoGenerators, create_app


def test_a_corrupt_checkpoint_is_logged_and_skipped(
    tmp_path, caplog, shipped_ngram, settings_factory
):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(shipped_ngram, models / shipped_ngram.name)
    broken = models / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header")
    with (
        caplog.at_level(logging.WARNING),
        TestClient(create_app(settings_factory(tmp_path / "data", models))) as client,
    ):
        assert client.get("/healthz").json()["models"] == 1
    assert any(str(broken) in r.getMessage() for r in caplog.records)


def test_no_loadable_checkpoint_refuses_to_start(tmp_path, settings_factory):
    models = tmp_path / "models"
    models.mkdir()
    (models / "broken.safetensors").write_bytes(b"garbage")
    with (
        pytest.raises(NoGenerators, match="no generator loaded"),
        TestClient(create_app(settings_factory(tmp_path / "data", models))),
    ):
        pass


def test_the_pool_fills_and_survives_a_restart(
    tmp_path, ngram_models_dir, settings_factory, pool_waiter
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir)
    with TestClient(create_app(settings)) as client:
        pool_waiter(client, ready=4)  # 2 per (model, temperature): 0.8 and 1.0
        state = client.app.state.realornn
        with state.sessions() as session:
            before = set(session.scalars(select(GeneratedPassage.id)))
    assert len(before) >= 4
    restarted = settings_factory(tmp_path / "data", ngram_models_dir, pool_target=0)  # no refill
    with TestClient(create_app(restarted)) as client:
        state = client.app.state.realornn
        with state.sessions() as session:
            assert session.scalar(select(func.count()).select_from(GeneratedPassage)) == len(before)
        body = client.post("/api/rounds", json={"mode": "pair"}).json()
        with state.sessions() as session:
            assert session.get(Round, body["round_id"]).passage_id in before


def test_with_nothing_in_the_bank_a_round_generates_its_passage_on_the_spot(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir, pool_refill="off")
    with TestClient(create_app(settings)) as client:
        state = client.app.state.realornn
        body = client.post("/api/rounds", json={"mode": "single"}).json()
        assert len(body["passages"]) == 1
        with state.sessions() as session:
            (passage,) = session.scalars(select(GeneratedPassage)).all()  # the one just made
            assert session.get(Round, body["round_id"]).passage_id == passage.id
            assert passage.served == 1  # it is this round's, not a fresh one for the pool
        guessed = client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": "real"})
        assert guessed.status_code == 200


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
