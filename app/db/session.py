"""Engine, sessions and migrations. SQLite gets WAL and a busy timeout; any other URL is passed
to SQLAlchemy as it is (PostgreSQL works with its driver installed)."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import get_args

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.config import SQLiteSynchronous
from app.db.notify import migration_lock
from app.db.prepared import PreparedConnection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_EVERY = 100  # held-connection commits (~500 WAL pages) between checkpoints

log = logging.getLogger("realornn.db")


def make_engine(url: str, synchronous: SQLiteSynchronous = "NORMAL") -> Engine:
    """An engine for `url`; on SQLite, every connection in WAL mode with a busy timeout and
    `synchronous` (see app.config.SQLiteSynchronous). Other databases keep their own durability."""
    if synchronous not in get_args(SQLiteSynchronous):  # it goes into a PRAGMA as text
        raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', got {synchronous!r}")
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never wait for the writer; the busy timeout makes writers queue
        # instead of failing with "database is locked" under concurrent guesses.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest migration."""
    make_engine(url).dispose()  # makes the SQLite folder
    with migration_lock(url):
        command.upgrade(alembic_config(url), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# SQLite lets one writer in at a time and makes the others poll (sleeps of 1 ms growing to
# 100 ms, for up to busy_timeout): under load that polling, not the work, sets the p99. One lock
# per process queues the writers fairly instead (other processes still meet the busy timeout).
_WRITE_LOCK = threading.RLock()  # re-entrant: a transaction inside one cannot deadlock


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with _WRITE_LOCK, factory() as session, session.begin():
        yield session


class WalCheckpointer:
    """Copies the WAL back into the database file on a thread of its own, when asked.

    SQLite does this by itself in the commit that takes the WAL past 1,000 pages: for the game's
    held connection, one round or guess in ~170, which then takes 5-7 ms instead of 0.4 and holds
    up every player queued behind it on the writer thread. The held connection turns that off
    and asks here every CHECKPOINT_EVERY commits; a PASSIVE checkpoint waits for no reader or
    writer, and sqlite3 lets go of the GIL while it runs, so the writer goes on meanwhile. Other
    connections (the pool's refiller, pages) keep SQLite's own checkpoints."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.checkpoints = 0  # done so far
        self.last: tuple[int, int, int] | None = None  # (busy, WAL frames, frames copied back)
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def request(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(
                    target=self._run, name="wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        connection = None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                break
            try:
                connection = connection or self.engine.raw_connection()
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self.last = tuple(cursor.fetchone())
                cursor.close()
                self.checkpoints += 1
            except Exception:  # noqa: BLE001 - the next commit's own checkpoint is the fallback
                log.exception("WAL checkpoint failed")
                if connection is not None:
                    connection.invalidate()
                    connection = None
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        """End the thread (a later request() starts a new one)."""
        with self._start_lock:
            self._stopping = True
            thread = self._thread
            self._wanted.set()
            if thread is not None:
                thread.join(timeout=10)
            self._thread, self._stopping = None, False
            self._wanted.clear()


class HeldConnection:
    """One connection kept open for the game's hot path: each round and guess is a short write
    transaction of Core statements on it, under the same per-process lock as transaction().
    Taking a connection from the pool and handing it back (with its reset) for every request
    cost more than the statements themselves: 0.2 ms of a 1.1 ms request, measured in process.
    Only a SQLite file is held: a server database can drop a connection (a restart) between two
    requests, and the pool's pre-ping, which would catch that, is skipped for a held one; there
    each transaction takes a pooled connection as before. The held connection is a
    PreparedConnection: the statements marked hot() run on sqlite3 directly (app/db/prepared.py)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.holds = engine.dialect.name == "sqlite"
        self._connection: PreparedConnection | None = None
        self._commits = 0
        self.checkpointer = WalCheckpointer(engine) if self.holds else None

    @contextmanager
    def transaction(self) -> Iterator[Connection | PreparedConnection]:
        if not self.holds:
            with _WRITE_LOCK, self.engine.begin() as connection:
                yield connection
            return
        with _WRITE_LOCK:
            connection = self._connection
            if connection is None or connection.closed or connection.invalidated:
                connection = self.engine.connect()
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # WalCheckpointer's
                connection.commit()
                connection = self._connection = PreparedConnection(connection)
            try:
                with connection.begin():
                    yield connection
            except DBAPIError as error:
                if error.connection_invalidated:
                    self._connection = None
                    connection.close()
                raise
            self._commits += 1
            if self._commits % CHECKPOINT_EVERY == 0:
                self.checkpointer.request()

    def close(self) -> None:
        """Give the connection back (at shutdown, before the engine is disposed)."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with _WRITE_LOCK:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
