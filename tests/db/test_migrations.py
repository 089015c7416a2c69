"""The Alembic migrations make exactly the schema the typed models describe; SQLite runs in WAL."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.db import Base, make_engine, migrate
from app.db.session import alembic_config


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


def test_passages_in_the_bank_get_their_mean_bits(tmp_path):
    """0003 adds the means of the surprisal lists and fills them in for stored passages."""
    url = f"sqlite:///{tmp_path / 'game.db'}"
    make_engine(url).dispose()
    command.upgrade(alembic_config(url), "0002")
    engine = make_engine(url)
    columns = {
        "created_at": "2026-11-30 08:00:00",
        "model": "m",
        "model_kind": "ngram",
        "unit": "char",
        "checkpoint_sha256": "0" * 64,
        "temperature": 1.0,
        "seed": 1,
        "prime": "A:\n",
        "requested_length": 10,
        "text": "t",
        "longest_copied_span": 0,
        "real_text": "r",
        "real_source": "{}",
        "served": 0,
    }
    rows = [
        {**columns, "id": 1, "heatmap_model": "h", "generated_bits": "[1.0, 2.0]",
         "real_bits": "[0.5, 0.25, 0.75]"},
        {**columns, "id": 2, "heatmap_model": None, "generated_bits": "null", "real_bits": "null"},
    ]  # fmt: skip
    names = ", ".join(rows[0])
    values = ", ".join(f":{name}" for name in rows[0])
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO passages ({names}) VALUES ({values})"), rows)
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        means = connection.execute(
            text("SELECT id, generated_mean_bits, real_mean_bits FROM passages ORDER BY id")
        ).all()
    assert [tuple(row) for row in means] == [(1, 1.5, 0.5), (2, None, None)]


def test_passages_from_before_the_judge_keep_their_rows_and_go_unjudged(tmp_path):
    """0004 adds the constraints and the judge's scores: NULL for what was stored before."""
    url = f"sqlite:///{tmp_path / 'game.db'}"
    make_engine(url).dispose()
    command.upgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    row = {
        "id": 7, "created_at": "2026-11-30 08:00:00", "model": "m", "model_kind": "ngram",
        "unit": "char", "checkpoint_sha256": "0" * 64, "temperature": 1.0, "seed": 1,
        "prime": "A:\n", "requested_length": 10, "text": "t", "longest_copied_span": 0,
        "real_text": "r", "real_source": "{}", "served": 0, "generated_bits": "null",
        "real_bits": "null",
    }  # fmt: skip
    names, values = ", ".join(row), ", ".join(f":{name}" for name in row)
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO passages ({names}) VALUES ({values})"), row)
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT text, constraints, judge_model, judge_real, judge_generated FROM passages")
        ).one()
        assert tuple(kept) == ("t", None, None, None, None)
        assert "judge_correct" in {c["name"] for c in inspect(engine).get_columns("guesses")}
    command.downgrade(alembic_config(url), "0003")  # and back, keeping the row
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM passages")).scalar() == "t"
        assert "judge_real" not in {c["name"] for c in inspect(engine).get_columns("passages")}
