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
    HeldConnection,
    make_engine,
    migrate,
    session_factory,
    transaction,
)

__all__ = [
    "Base",
    "HeldConnection",
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
]
