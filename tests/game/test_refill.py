"""The pool's refiller process: it fills the pool at the lowest CPU priority, one per data
folder, and it goes when its server goes."""

import fcntl
import os
import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import GeneratedPassage, make_engine, migrate, session_factory
from app.game.refill import RefillProcess, lock_path, wait_for_lock
from app.web.main import create_app

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


def test_the_refiller_waits_for_the_writer_to_be_quiet_but_not_for_ever(monkeypatch):
    from multiprocessing import RawArray

    from app.game import refill

    stop = threading.Event()
    in_flight = RawArray("d", 2)  # [rounds and guesses in flight, when that last changed]
    in_flight[:] = [0, time.monotonic() - 10]
    assert refill.wait_for_quiet(in_flight, stop) < 0.1  # quiet for long: at once

    in_flight[:] = [3, time.monotonic()]  # busy; quiet again after 0.3 s

    def quieten() -> None:
        in_flight[:] = [0, time.monotonic()]

    threading.Timer(0.3, quieten).start()
    waited = refill.wait_for_quiet(in_flight, stop, quiet=0.2)
    assert 0.45 <= waited < refill.MAX_DEFER_SECONDS  # 0.3 busy + 0.2 quiet

    monkeypatch.setattr(refill, "MAX_DEFER_SECONDS", 0.3)
    in_flight[:] = [5, time.monotonic()]  # busy throughout: it goes ahead after the longest wait
    assert 0.3 <= refill.wait_for_quiet(in_flight, stop) < 1.0

    stop.set()  # told to stop: no waiting
    assert refill.wait_for_quiet(in_flight, stop) < 0.1


def test_a_passage_for_an_empty_key_is_made_at_once_and_others_wait_for_quiet(monkeypatch):
    import queue as queues
    from multiprocessing import RawArray

    from app.game import refill

    class Pool:  # stands in for the child's PassagePool
        def generate(self, key):
            return {"model": key, "text": "..."}

    waits = []
    monkeypatch.setattr(refill, "wait_for_quiet", lambda in_flight, stop: waits.append(1))
    passages, stop = queues.Queue(), threading.Event()
    busy = RawArray("d", [4, time.monotonic()])
    assert refill.hand_over(Pool(), "empty-key", 0, passages, stop, busy)
    assert waits == []  # no passage of that key in the bank: rounds would wait for it
    assert refill.hand_over(Pool(), "banked-key", 12, passages, stop, busy)
    assert waits == [1]
    assert [passages.get_nowait()["model"] for _ in range(2)] == ["empty-key", "banked-key"]
    assert refill.hand_over(Pool(), "any", 12, passages, stop, None)  # no count shared: no wait
    assert waits == [1]
