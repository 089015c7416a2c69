"""Helpers for the tests that play the game through its API: solo rounds, classroom rooms,
models folders."""

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from app.db import GeneratedPassage, Round


def new_round(client, **body):
    response = client.post("/api/rounds", json={"mode": "pair", **body})
    assert response.status_code == 201, response.text
    return response.json()


def stored(client, round_id) -> tuple[Round, GeneratedPassage]:
    state = client.app.state.realornn
    with state.sessions() as session:
        round_ = session.get(Round, round_id)
        return round_, session.get(GeneratedPassage, round_.passage_id)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_room(server, **body) -> tuple[str, str]:
    response = server.post("/api/rooms", json={"rounds": 3, **body})
    server.cookies.clear()  # these tests send tokens as Bearer headers, like a program would
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["join_url"].endswith(f"/join/{created['code']}")
    return created["code"], created["host_token"]


def join(server, code: str, nickname: str) -> str:
    response = server.post(f"/api/rooms/{code}/players", json={"nickname": nickname})
    server.cookies.clear()
    assert response.status_code == 201, response.text
    return response.json()["player_token"]


def answer_of(server, round_id: str) -> int:
    state = server.app.state.realornn
    with state.sessions() as session:
        return session.get(Round, round_id).layout.index("real")


def folder_with(folder: Path, *checkpoints: Path) -> Path:
    """A models folder holding copies of `checkpoints`."""
    folder.mkdir()
    for checkpoint in checkpoints:
        shutil.copy(checkpoint, folder / checkpoint.name)
    return folder


def layout_of(client: TestClient, round_id: str) -> list[str]:
    """The round's passages in the order shown, "real" or "generated" (single: one)."""
    with client.app.state.realornn.sessions() as session:
        return session.get(Round, round_id).layout
