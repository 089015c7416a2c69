"""The Alembic migrations make exactly the schema the typed models describe; SQLite runs in WAL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.db import Base, make_engine, migrate


def test_migrations_create_the_schema_of_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'game.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert {"players", "passages", "rounds", "guesses", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )


def test_migrating_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'game.db'}"
    migrate(url)
    migrate(url)


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'game.db'}")  # makes the folder
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
