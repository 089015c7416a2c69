"""app/game/pool.py: the passage pool fills in the background, survives a restart, makes a
round's passage on the spot when the bank holds none, and at hard keeps the judge's pick."""

from types import SimpleNamespace

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.corpus import spoken_words
from app.db import GeneratedPassage, Round
from app.game.pool import PassagePool
from app.game.registry import ModelRegistry
from app.game.rules import PoolKey, difficulty_of, pool_keys
from app.web.main import create_app
from tests.playing import folder_with


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


def test_at_hard_the_pool_keeps_the_judges_pick_of_hard_candidates(
    tmp_path, plays_corpus, settings_factory
):
    from tests.conftest import PROJECT_ROOT

    folder = folder_with(
        tmp_path / "models", PROJECT_ROOT / "models" / "char-lstm-2x384.safetensors"
    )
    models = ModelRegistry.load(settings_factory(tmp_path / "data", folder))
    asked: list[list[str]] = []

    def scores(texts):
        asked.append(list(texts))
        return np.array([float(len(set(t))) for t in texts])

    # a judge that finds most real the candidate with the most distinct characters
    judge = SimpleNamespace(name="by-distinct", scores=scores)
    keys = pool_keys(models.in_game())
    pool = PassagePool(
        models,
        None,
        plays_corpus,
        keys,
        None,
        target=1,
        bank_max=10,
        pace=False,
        judge=judge,
        hard_candidates=3,
    )
    hard = PoolKey("char-lstm-2x384", 0.75)
    assert difficulty_of("rnn", 0.75) == "hard"
    values = pool.generate(hard, seed=17)
    assert values is not None
    candidates, stored_pair = asked[0], asked[-1]
    assert 1 <= len(candidates) <= 3 and values["text"] in candidates
    assert len(set(values["text"])) == max(len(set(t)) for t in candidates)
    assert values["constraints"]["candidates"] == 3 and values["constraints"]["lexicon"] is True
    assert stored_pair == [values["real_text"], values["text"]]
    assert values["judge_generated"] == len(set(values["text"]))
    assert all(word in pool.lexicon for word in spoken_words(values["text"]))
    asked.clear()
    medium = pool.generate(PoolKey("char-lstm-2x384", 1.0), seed=17)  # one candidate, no pick
    assert medium is not None and medium["constraints"]["candidates"] == 1
    assert asked == [[medium["real_text"], medium["text"]]]
