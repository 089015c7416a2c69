"""app/game/pool.py: the passage pool fills in the background, survives a restart, and makes a
round's passage on the spot when the bank holds none."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import GeneratedPassage, Round
from app.web.main import create_app


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
