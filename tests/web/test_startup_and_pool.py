"""The lifespan: checkpoints that fail are skipped, none at all refuses to start; the passage
pool fills in the background and survives a restart."""

import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.db import GeneratedPassage, Round
from app.web.main import NoGenerators, create_app


def folder_with(folder: Path, *checkpoints: Path) -> Path:
    """A models folder holding copies of `checkpoints`."""
    folder.mkdir()
    for checkpoint in checkpoints:
        shutil.copy(checkpoint, folder / checkpoint.name)
    return folder


def test_a_corrupt_checkpoint_is_logged_and_skipped(
    tmp_path, caplog, shipped_ngram, settings_factory
):
    models = folder_with(tmp_path / "models", shipped_ngram)
    broken = models / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header")
    with (
        caplog.at_level(logging.WARNING),
        TestClient(create_app(settings_factory(tmp_path / "data", models))) as client,
    ):
        assert client.get("/healthz").json()["models"] == 1
    assert any(str(broken) in r.getMessage() for r in caplog.records)


def test_no_loadable_checkpoint_refuses_to_start(tmp_path, settings_factory):
    models = folder_with(tmp_path / "models")
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


def test_a_model_whose_training_text_is_gone_is_loaded_but_kept_out_of_the_game(
    tmp_path, shipped_ngram, settings_factory, plays_corpus
):
    from app.cli import main

    models = folder_with(tmp_path / "models", shipped_ngram)
    text = tmp_path / "notes.txt"
    text.write_text(plays_corpus.text("val")[:4000], encoding="utf-8")
    command = ["train", "ngram", "--text", str(text), "--order", "3", "--out", str(models / "own")]
    assert main(["--models-dir", str(models), *command]) == 0
    text.unlink()  # copies can no longer be checked: it must not write for the game
    settings = settings_factory(tmp_path / "data", models, pool_refill="off")
    with TestClient(create_app(settings)) as client:
        in_game = {m["name"]: m["in_game"] for m in client.get("/api/models").json()["models"]}
        how = client.get("/how").text
        playable = client.get("/").text
        explorable = client.get("/explore").text
    assert in_game == {"char-7gram-kn": True, "own": False}
    row = how[how.index("<code>own</code>") :].split("</th>", 1)[0]
    assert "explorer only" in row  # the How page says why it is not in the game
    assert "explorer only" not in how[how.index("<code>char-7gram-kn</code>") :].split("</th>")[0]
    assert 'value="own"' not in playable  # and the game does not offer it,
    assert 'value="own"' in explorable  # while the explorer does
