"""The game's held connection: one connection for the hot path's write transactions, kept open
between them, replaced when it goes bad."""

import time

import pytest
from sqlalchemy import text

from app.db import HeldConnection, make_engine, session


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'held.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def notes(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT body FROM notes ORDER BY rowid")).scalars())


def test_transactions_commit_on_one_connection_kept_between_them(engine):
    held = HeldConnection(engine)
    with held.transaction() as first:
        first.execute(text("INSERT INTO notes VALUES ('one')"))
    with held.transaction() as second:
        second.execute(text("INSERT INTO notes VALUES ('two')"))
    assert second is first
    assert notes(engine) == ["one", "two"]  # committed: another connection sees them
    held.close()


def test_a_failing_transaction_rolls_back_and_the_connection_goes_on(engine):
    held = HeldConnection(engine)
    with pytest.raises(LookupError), held.transaction() as connection:
        connection.execute(text("INSERT INTO notes VALUES ('lost')"))
        raise LookupError("no round 'x'")
    with held.transaction() as again:
        again.execute(text("INSERT INTO notes VALUES ('kept')"))
    assert again is connection
    assert notes(engine) == ["kept"]
    held.close()


def test_an_invalidated_or_closed_connection_is_replaced(engine):
    held = HeldConnection(engine)
    with held.transaction() as connection:
        pass
    connection.invalidate()  # as after the database dropped it
    with held.transaction() as replacement:
        replacement.execute(text("INSERT INTO notes VALUES ('after')"))
    assert replacement is not connection
    held.close()
    assert replacement.closed
    with held.transaction() as reopened:  # usable again after close()
        reopened.execute(text("INSERT INTO notes VALUES ('reopened')"))
    assert notes(engine) == ["after", "reopened"]
    held.close()


def test_only_a_sqlite_connection_is_held_a_server_databases_comes_from_the_pool(engine):
    held = HeldConnection(engine)
    assert held.holds  # a SQLite file
    held.holds = False  # as for PostgreSQL: the pool's pre-ping must see every checkout
    with held.transaction() as first:
        first.execute(text("INSERT INTO notes VALUES ('pooled')"))
    with held.transaction() as second:
        second.execute(text("INSERT INTO notes VALUES ('again')"))
    assert first is not second and first.closed and second.closed  # back in the pool
    assert notes(engine) == ["pooled", "again"]


def wal_autocheckpoint(connection) -> int:
    return connection.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def test_the_held_connection_leaves_wal_checkpoints_to_a_thread_of_their_own(engine, monkeypatch):
    monkeypatch.setattr(session, "CHECKPOINT_EVERY", 5)
    held = HeldConnection(engine)
    for number in range(10):
        with held.transaction() as connection:
            connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": str(number)})
    assert wal_autocheckpoint(connection) == 0  # no 5-7 ms checkpoint inside a commit
    with engine.connect() as other:
        assert wal_autocheckpoint(other) == 1000  # the rest keep SQLite's own
    deadline = time.monotonic() + 10
    # the checkpointer was asked twice (commits 5 and 10); the run after the last commit copies
    # every frame of the WAL back into the database
    while (last := held.checkpointer.last) is None or last[1] != last[2]:
        assert time.monotonic() < deadline, f"no full checkpoint: {last}"
        time.sleep(0.02)
    busy, frames, copied = last
    assert busy == 0 and frames == copied > 0
    held.close()
    assert held.checkpointer._thread is None  # stopped; the next request starts another
    with held.transaction() as reopened:
        reopened.execute(text("INSERT INTO notes VALUES ('after')"))
    assert notes(engine)[-1] == "after"
    held.close()


@pytest.mark.parametrize(("synchronous", "pragma"), [(None, 1), ("NORMAL", 1), ("FULL", 2)])
def test_every_sqlite_connection_gets_the_durability_asked_for(tmp_path, synchronous, pragma):
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    engine = make_engine(url) if synchronous is None else make_engine(url, synchronous)
    held = HeldConnection(engine)
    with engine.connect() as pooled, held.transaction() as hot:
        assert pooled.execute(text("PRAGMA synchronous")).scalar() == pragma  # 1 NORMAL, 2 FULL
        assert hot.core.execute(text("PRAGMA synchronous")).scalar() == pragma
        assert pooled.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    held.close()
    engine.dispose()


def test_an_unknown_durability_is_refused_before_it_reaches_a_pragma(tmp_path):
    with pytest.raises(ValueError, match="synchronous"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", "OFF; DROP TABLE notes")  # type: ignore[arg-type]
