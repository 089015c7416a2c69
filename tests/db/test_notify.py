"""app/db/notify.py on a real PostgreSQL: a room change announced in a transaction reaches every
listener when it commits and never when it rolls back; one refill lock across connections."""

import queue

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.db.notify import (
    RoomChangeListener,
    announce_room_change,
    is_postgresql,
    libpq_url,
    try_advisory_lock,
)


@pytest.fixture(scope="module")
def url(postgres_server) -> str:
    return postgres_server.create_database("notify")


def test_the_url_is_told_apart_and_given_to_psycopg_without_the_driver():
    assert is_postgresql("postgresql+psycopg://u:p@h:5/db")
    assert not is_postgresql("sqlite:///data/realornn.db")
    assert libpq_url("postgresql+psycopg://u:p@h:5/db") == "postgresql://u:p@h:5/db"


def test_a_committed_change_reaches_every_listener_and_a_rolled_back_one_none(url):
    heard: queue.Queue[tuple[str, str]] = queue.Queue()
    listeners = [
        RoomChangeListener(url, lambda code, name=name: heard.put((name, code))).start()
        for name in ("a", "b")
    ]
    engine = create_engine(url)
    try:
        for listener in listeners:
            assert listener.listening.wait(10)
        with Session(engine) as session, session.begin():
            announce_room_change(session, "ROLLED")
            session.rollback()
        with Session(engine) as session, session.begin():
            announce_room_change(session, "ABCD")
        got = sorted(heard.get(timeout=2) for _ in listeners)
        assert got == [("a", "ABCD"), ("b", "ABCD")]  # not "ROLLED"
        with pytest.raises(queue.Empty):
            heard.get(timeout=0.5)
    finally:
        for listener in listeners:
            listener.stop()
        engine.dispose()
    assert not any(listener.thread.is_alive() for listener in listeners)


def test_announcing_on_sqlite_does_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with Session(engine) as session, session.begin():
        announce_room_change(session, "ABCD")  # no pg_notify on SQLite: no error either


def test_one_refill_lock_across_connections(url):
    first = try_advisory_lock(url)
    assert first is not None
    assert try_advisory_lock(url) is None  # another host's refiller waits
    first.close()  # the holder dies: its connection goes, and the lock with it
    second = try_advisory_lock(url)
    assert second is not None
    second.close()
