"""The pool's refiller process: it fills the pool at the lowest CPU priority, one per data
folder, and it goes when its server goes."""

import fcntl
import os
import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import GeneratedPassage, make_engine, migrate, session_factory
from app.web.main import create_app
from app.web.refill import RefillProcess, lock_path, wait_for_lock

SPAWN_TIMEOUT = 120  # seconds: a fresh interpreter imports torch and loads the model


def passages_in(settings) -> int:
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(GeneratedPassage))
    finally:
        engine.dispose()


def test_the_refiller_is_a_niced_child_that_fills_the_pool_and_stops_with_the_server(
    tmp_path, ngram_models_dir, settings_factory, pool_waiter
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir, pool_refill="process")
    with TestClient(create_app(settings)) as client:
        refill = client.app.state.refill
        assert refill is not None and refill.is_alive()
        assert client.app.state.realornn.pool._thread is None  # no refill thread in the server
        pool_waiter(client, ready=4, timeout=SPAWN_TIMEOUT)  # 2 per temperature, 2 temperatures
        assert os.getpriority(os.PRIO_PROCESS, refill.pid) == 19  # it niced itself first
        body = client.post("/api/rounds", json={"mode": "pair"}).json()
        assert client.post(f"/api/rounds/{body['round_id']}/guess", json={"choice": 0}).is_success
    assert not refill.is_alive()


def test_only_the_holder_of_the_data_folders_lock_refills_and_its_parent_stores(
    tmp_path, ngram_models_dir, settings_factory
):
    settings = settings_factory(tmp_path / "data", ngram_models_dir, pool_target=1)
    migrate(settings.resolved_database_url())
    stored, stored_by = [], set()

    def store(values: dict) -> None:  # the server's PassagePool.store, here a list
        stored.append(values)
        stored_by.add(threading.current_thread().name)

    lock = lock_path(settings)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another worker's refiller would
        refill = RefillProcess(settings)
        refill.start(store)
        try:
            time.sleep(8)  # long enough to have loaded the model and made passages
            assert refill.is_alive()
            made_while_locked_out = len(stored)
            fcntl.flock(held, fcntl.LOCK_UN)  # that refiller goes: this one takes over
            deadline = time.monotonic() + SPAWN_TIMEOUT
            while {values["temperature"] for values in stored} != {0.8, 1.0}:  # both keys
                assert time.monotonic() < deadline, "the waiting refiller never took over"
                time.sleep(0.5)
        finally:
            refill.stop()
    assert made_while_locked_out == 0
    assert not refill.is_alive()
    assert all(values["model"] == "char-7gram-kn" and values["text"] for values in stored)
    assert stored_by == {"passage-store"}  # this process's thread, not the child, stores
    assert passages_in(settings) == 0  # the child itself never wrote to the database


def test_waiting_for_the_lock_ends_when_told_to_stop_or_when_the_parent_is_gone(tmp_path):
    path = tmp_path / "pool.lock"
    stop = threading.Event()
    with path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        threading.Timer(0.3, stop.set).start()
        assert wait_for_lock(path, stop, os.getppid()) is None  # told to stop while waiting
        stop.clear()
        assert wait_for_lock(path, stop, parent_pid=-1) is None  # not our parent: give up
    handle = wait_for_lock(path, stop, os.getppid())  # free now: taken at once
    assert handle is not None
    handle.close()
