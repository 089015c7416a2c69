"""The game's hot statements, run on SQLite's own driver: compiled once, bound by hand.

A round is two statements and a commit, a guess four (app/game/rounds.py). Through SQLAlchemy
Core each execution costs ~75 µs of Python (an execution context, the parameters built and
processed, the result's metadata) on top of what sqlite3 itself takes (25-100 µs): most of the
writer thread's time per request, measured in process. A statement marked with hot() is
compiled by SQLAlchemy once per dialect, for the same SQL text, with the same type processing
(the dialect's own bind and result processors: datetimes and JSON are stored exactly as
SQLAlchemy stores them), and executed on the raw sqlite3 connection inside the caller's
SQLAlchemy transaction. Everything else (other statements, other databases: PostgreSQL keeps
plain Core) goes through SQLAlchemy as usual.
"""

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql import ClauseElement

_HOT: dict[int, ClauseElement] = {}  # id -> the statement (held, so that its id stays its own)
_MISSING = object()


def hot(statement: ClauseElement) -> ClauseElement:
    """Mark a module-level Core statement for PreparedConnection; returns it unchanged, so that
    a Session or a plain Connection runs it as before."""
    _HOT[id(statement)] = statement
    return statement


class Unpreparable(ValueError):
    """A statement whose execution needs SQLAlchemy itself (a Python-side default to run, an
    expanding IN list): hot() statements must not be such."""


class PreparedStatement:
    """One statement compiled for `dialect` (qmark parameters, as sqlite3 takes them), with the
    processors that turn Python values into what is stored and back."""

    def __init__(self, statement: ClauseElement, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        if not compiled.positional:
            raise Unpreparable(f"{dialect.name}: positional parameters expected")
        self.sql = compiled.string
        self.slots: list[tuple[str, Any, Callable | None]] = []  # (name, fixed value, processor)
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                raise Unpreparable(f"parameter {name!r} needs SQLAlchemy to expand it")
            fixed = _MISSING if bind.required else bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.slots.append((name, fixed, processor))
        if compiled.insert_prefetch or compiled.update_prefetch:
            names = [column.name for column in compiled.insert_prefetch + compiled.update_prefetch]
            raise Unpreparable(f"columns {names} have Python-side defaults: give them values")
        columns = list(getattr(statement, "exported_columns", ()))
        self.row = namedtuple("Row", [column.key for column in columns]) if columns else None
        self.converters = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def parameters(self, given: Mapping[str, Any]) -> tuple:
        values = []
        for name, fixed, processor in self.slots:
            value = given.get(name, _MISSING)
            if value is _MISSING:
                value = fixed
            if value is _MISSING:
                raise KeyError(f"no value for parameter {name!r}")
            values.append(processor(value) if processor is not None else value)
        return tuple(values)

    def rows(self, cursor: sqlite3.Cursor) -> list:
        if self.row is None:
            return []
        converters = self.converters
        return [
            self.row._make(
                value if convert is None else convert(value)
                for value, convert in zip(raw, converters, strict=True)
            )
            for raw in cursor.fetchall()
        ]


class PreparedResult:
    """The part of SQLAlchemy's Result the hot path uses: first(), one(), all()."""

    def __init__(self, rows: list):
        self._rows = rows

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def all(self) -> list:
        return list(self._rows)


class PreparedConnection:
    """A SQLAlchemy Connection to SQLite whose execute() runs hot() statements on the driver
    (in the same transaction: the driver's connection is the one SQLAlchemy holds) and hands
    every other statement to SQLAlchemy."""

    def __init__(self, connection: Connection):
        self.core = connection  # the SQLAlchemy Connection; its attributes are this one's
        self._prepared: dict[int, PreparedStatement] = {}  # by id() of the hot() statement
        driver = connection.connection.driver_connection
        # another SQLite driver (pysqlcipher, ...): everything through SQLAlchemy
        self._driver = driver if isinstance(driver, sqlite3.Connection) else None

    def execute(self, statement, parameters: Mapping[str, Any] | None = None):
        if parameters is not None and not isinstance(parameters, Mapping):
            return self.core.execute(statement, parameters)  # executemany: SQLAlchemy's
        prepared = self._prepared.get(id(statement))
        if prepared is None:
            if self._driver is None or _HOT.get(id(statement)) is not statement:
                return self.core.execute(statement, parameters)
            prepared = PreparedStatement(statement, self.core.dialect)
            self._prepared[id(statement)] = prepared
        values = prepared.parameters(parameters or {})
        try:
            cursor = self._driver.execute(prepared.sql, values)
            rows = prepared.rows(cursor)
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                prepared.sql, values, error, sqlite3.Error, dialect=self.core.dialect
            ) from error
        return PreparedResult(rows)

    @property
    def prepared(self) -> list[ClauseElement]:
        """The hot() statements this connection has run on the driver so far."""
        return [_HOT[key] for key in self._prepared]

    def __getattr__(self, name: str):  # commit(), exec_driver_sql(), ...: SQLAlchemy's own
        return getattr(self.core, name)
