"""Room changes across processes and hosts, on PostgreSQL: a NOTIFY in the transaction that
changes a room, and a LISTEN on a connection of its own in each server. Replicas behind a load
balancer then see each other's votes at once rather than at their next poll. SQLite has no such
thing: there every process polls the room's version (app/web/events.py), as before.

Also the refiller's one-at-a-time lock across hosts: a PostgreSQL advisory lock, held by a
connection for as long as it lives (a refiller that dies lets go of it with its connection).
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("realornn.notify")

CHANNEL = "realornn_rooms"
# "realornn" in ASCII: the one advisory lock id every replica's refiller asks for
REFILL_LOCK_KEY = 0x7265616C6F726E6E
MIGRATE_LOCK_KEY = REFILL_LOCK_KEY + 1  # replicas started at once migrate one after the other
RECONNECT_SECONDS = 1.0


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def libpq_url(url: str) -> str:
    """postgresql+psycopg://... as psycopg.connect takes it (no dialect, no driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def announce_room_change(session: Session | Connection, code: str) -> None:
    """Tell every listening server that this room changed; PostgreSQL delivers it on commit,
    and not at all on rollback. Nothing to do on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        notice = {"channel": CHANNEL, "code": code}
        session.execute(text("SELECT pg_notify(:channel, :code)"), notice)


class RoomChangeListener:
    """A thread that LISTENs on its own connection and calls `changed(code)` for every room
    any server (this one included) changes. It reconnects after a lost connection; a change
    announced while it was away is seen by the watcher's poll (app/web/events.py)."""

    def __init__(self, url: str, changed: Callable[[str], Any]):
        self.url, self.changed = libpq_url(url), changed
        self.stopping = threading.Event()
        self.listening = threading.Event()  # set while the LISTEN is in place (for tests)
        self.thread = threading.Thread(target=self._run, name="room-listener", daemon=True)

    def start(self) -> "RoomChangeListener":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg  # only on PostgreSQL, where the driver is installed

        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self.stopping.is_set():
                        # wakes at least once a second to see whether it is told to stop
                        for notice in connection.notifies(timeout=1.0):
                            self.changed(notice.payload)
            except Exception as error:  # a lost connection, a restarting database
                self.listening.clear()
                if not self.stopping.is_set():
                    log.warning("room listener: %s; reconnecting", error)
                    self.stopping.wait(RECONNECT_SECONDS)
        self.listening.clear()


@contextlib.contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """On PostgreSQL, hold the migration lock (waiting for it) while the body runs: two replicas
    started together would otherwise both create the tables. A no-op on SQLite, whose file
    lock already serialises them."""
    if not is_postgresql(url):
        yield
        return
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK_KEY,))
        yield  # closing the connection releases it


def try_advisory_lock(url: str):
    """An open psycopg connection holding the refill lock, or None if another holds it.
    Closing the connection (or the process dying) releases the lock."""
    import psycopg

    connection = psycopg.connect(libpq_url(url), autocommit=True)
    try:
        query = "SELECT pg_try_advisory_lock(%s)"
        (taken,) = connection.execute(query, (REFILL_LOCK_KEY,)).fetchone()
    except Exception:
        connection.close()
        raise
    if taken:
        return connection
    connection.close()
    return None
