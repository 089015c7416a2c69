"""Hot statements on the driver: stored and read back exactly as SQLAlchemy stores and reads
them, in the caller's transaction, with SQLAlchemy's errors."""

import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, NoResultFound

from app.db import make_engine
from app.db.prepared import PreparedConnection, PreparedResult, Unpreparable, hot

METADATA = MetaData()
NOTES = Table(
    "notes",
    METADATA,
    Column("id", String(16), primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("weight", Float, nullable=False),
    Column("views", Integer, nullable=False, default=0),
)
COLUMNS = ("id", "at", "tags", "done", "weight")
INSERT = hot(insert(NOTES).values({**{name: bindparam(name) for name in COLUMNS}, "views": 0}))
VIEW = hot(  # literal values (the + 1) travel as parameters of their own
    update(NOTES)
    .where(NOTES.c.id == bindparam("note_id"), NOTES.c.at > bindparam("after"))
    .values(views=NOTES.c.views + 1)
    .returning(NOTES.c.id, NOTES.c.at, NOTES.c.tags, NOTES.c.done, NOTES.c.views)
)
READ = hot(select(NOTES).where(NOTES.c.id == bindparam("note_id")))
NOT_HOT = select(NOTES.c.id).where(NOTES.c.id == bindparam("note_id"))
AT = datetime(2026, 11, 30, 9, 15, 42, 123456)
WHOLE_SECOND = datetime(2026, 11, 30, 9, 15, 42)  # SQLAlchemy writes .000000, sqlite3 would not


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'prepared.db'}")
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def note(note_id: str, **changes) -> dict:
    return {"id": note_id, "at": AT, "tags": ["a", 1], "done": True, "weight": 0.5, **changes}


def stored_rows(engine) -> list[tuple]:
    """The rows as SQLite holds them, read without SQLAlchemy."""
    database = sqlite3.connect(engine.url.database)
    try:
        return database.execute("SELECT * FROM notes ORDER BY id").fetchall()
    finally:
        database.close()


def test_a_hot_insert_stores_exactly_what_sqlalchemy_stores(engine):
    with engine.begin() as connection:
        connection.execute(INSERT, note("core-1"))
        connection.execute(INSERT, note("core-2", at=WHOLE_SECOND, done=False, weight=2))
    with engine.begin() as connection:
        prepared = PreparedConnection(connection)
        prepared.execute(INSERT, note("driver-1"))
        prepared.execute(INSERT, note("driver-2", at=WHOLE_SECOND, done=False, weight=2))
    core_1, core_2, driver_1, driver_2 = stored_rows(engine)
    assert driver_1[1:] == core_1[1:]  # the datetime's text, the JSON's text, the boolean's 1
    assert driver_2[1:] == core_2[1:]
    assert driver_2[1] == "2026-11-30 09:15:42.000000" and driver_2[4] == 2.0


def test_hot_rows_read_back_as_sqlalchemy_reads_them(engine):
    with engine.begin() as connection:
        connection.execute(INSERT, note("n1", tags={"k": [1, 2]}, done=False))
        by_core = connection.execute(VIEW, {"note_id": "n1", "after": AT - timedelta(1)}).one()
        by_driver = (
            PreparedConnection(connection)
            .execute(VIEW, {"note_id": "n1", "after": AT - timedelta(1)})
            .one()
        )
        read = PreparedConnection(connection).execute(READ, {"note_id": "n1"}).one()
    assert tuple(by_core) == ("n1", AT, {"k": [1, 2]}, False, 1)
    assert tuple(by_driver) == ("n1", AT, {"k": [1, 2]}, False, 2)  # the + 1 applied again
    assert by_driver.at == AT and by_driver.tags == {"k": [1, 2]} and by_driver.done is False
    assert read._fields == ("id", "at", "tags", "done", "weight", "views")


def test_one_and_first_answer_as_sqlalchemys(engine):
    with engine.begin() as connection:
        prepared = PreparedConnection(connection)
        assert prepared.execute(READ, {"note_id": "missing"}).first() is None
        with pytest.raises(NoResultFound):
            prepared.execute(READ, {"note_id": "missing"}).one()


def test_a_condition_on_a_datetime_compares_stored_texts_alike(engine):
    with engine.begin() as connection:
        prepared = PreparedConnection(connection)
        prepared.execute(INSERT, note("n1"))
        assert prepared.execute(VIEW, {"note_id": "n1", "after": AT}).first() is None
        assert prepared.execute(VIEW, {"note_id": "n1", "after": AT - timedelta(microseconds=1)})


def test_a_hot_statement_runs_in_the_callers_transaction(engine):
    with pytest.raises(LookupError), engine.begin() as connection:
        PreparedConnection(connection).execute(INSERT, note("lost"))
        raise LookupError("rolled back")
    with engine.begin() as connection:
        PreparedConnection(connection).execute(INSERT, note("kept"))
    assert [row[0] for row in stored_rows(engine)] == ["kept"]


def test_other_statements_go_through_sqlalchemy(engine):
    with engine.begin() as connection:
        prepared = PreparedConnection(connection)
        prepared.execute(INSERT, note("n1"))
        result = prepared.execute(NOT_HOT, {"note_id": "n1"})
        assert not isinstance(result, PreparedResult)
        assert result.scalar_one() == "n1"
        assert prepared.execute(text("SELECT count(*) FROM notes")).scalar_one() == 1
        assert prepared.in_transaction()  # the Connection's own attributes


def test_many_parameter_sets_go_through_sqlalchemy(engine):
    with engine.begin() as connection:
        PreparedConnection(connection).execute(INSERT, [note("n1"), note("n2")])
    assert [row[0] for row in stored_rows(engine)] == ["n1", "n2"]


def test_driver_errors_are_sqlalchemys(engine):
    with engine.begin() as connection:
        PreparedConnection(connection).execute(INSERT, note("twice"))
    with pytest.raises(IntegrityError, match="UNIQUE"), engine.begin() as connection:
        PreparedConnection(connection).execute(INSERT, note("twice"))


def test_a_missing_parameter_is_named(engine):
    with pytest.raises(KeyError, match="weight"), engine.begin() as connection:
        PreparedConnection(connection).execute(
            INSERT, {k: v for k, v in note("n").items() if k != "weight"}
        )


def test_a_hot_insert_must_name_the_columns_with_python_defaults(engine):
    statement = hot(insert(NOTES).values({name: bindparam(name) for name in COLUMNS}))
    with pytest.raises(Unpreparable, match="views"), engine.begin() as connection:
        PreparedConnection(connection).execute(statement, note("n"))
