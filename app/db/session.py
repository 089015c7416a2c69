"""Engine, sessions and migrations. SQLite gets WAL and a busy timeout; any other URL is passed
to SQLAlchemy as it is (PostgreSQL works with its driver installed)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
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
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no commit
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


class HeldConnection:
    """One connection kept open for the game's hot path: each round and guess is a short write
    transaction of Core statements on it, under the same per-process lock as transaction().
    Taking a connection from the pool and handing it back (with its reset) for every request
    cost more than the statements themselves: 0.2 ms of a 1.1 ms request, measured in process.
    Only a SQLite file is held: a server database can drop a connection (a restart) between two
    requests, and the pool's pre-ping, which would catch that, is skipped for a held one; there
    each transaction takes a pooled connection as before."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.holds = engine.dialect.name == "sqlite"
        self._connection: Connection | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        if not self.holds:
            with _WRITE_LOCK, self.engine.begin() as connection:
                yield connection
            return
        with _WRITE_LOCK:
            connection = self._connection
            if connection is None or connection.closed or connection.invalidated:
                connection = self._connection = self.engine.connect()
            try:
                with connection.begin():
                    yield connection
            except DBAPIError as error:
                if error.connection_invalidated:
                    self._connection = None
                    connection.close()
                raise

    def close(self) -> None:
        """Give the connection back (at shutdown, before the engine is disposed)."""
        with _WRITE_LOCK:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
