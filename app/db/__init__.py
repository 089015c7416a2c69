"""Storage: SQLAlchemy models, the engine, Alembic migrations."""

from app.db.models import (
    Base,
    GeneratedPassage,
    Guess,
    Player,
    Room,
    RoomMember,
    Round,
    utcnow,
)
from app.db.session import (
    make_engine,
    migrate,
    session_factory,
    transaction,
    write_connection,
)

__all__ = [
    "Base",
    "GeneratedPassage",
    "Guess",
    "Player",
    "Room",
    "RoomMember",
    "Round",
    "make_engine",
    "migrate",
    "session_factory",
    "transaction",
    "utcnow",
    "write_connection",
]
