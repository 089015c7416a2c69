"""What the server holds for its lifetime, built once by the lifespan, and the request-state
dependency that hands it to the routers."""

from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.corpus import Corpus
from app.db import HeldConnection
from app.game.players import KnownPlayers
from app.game.pool import PassagePool
from app.game.registry import LoadedModel, ModelRegistry, UnknownModel
from app.web.events import RoomEvents
from app.web.limits import RateLimiter


@dataclass
class AppState:
    settings: Settings
    secret_key: str
    engine: Engine
    sessions: sessionmaker[Session]
    models: ModelRegistry
    corpus: Corpus  # the plays: real excerpts come from its test split
    pool: PassagePool
    room_events: RoomEvents
    game_writes: HeldConnection  # the solo game's rounds and guesses (app/web/writer.py)
    known_players: KnownPlayers = field(default_factory=KnownPlayers)  # see claim_player
    rate_limiter: RateLimiter | None = None  # None: RATE_LIMITS=false (app/web/limits.py)

    @property
    def heatmap(self) -> LoadedModel | None:
        return self.models.heatmap


async def get_state(request: Request) -> AppState:
    # async: FastAPI would run a plain def dependency in its threadpool, a thread hop per request
    return request.app.state.realornn


def require_known_model(state: AppState, name: str | None) -> None:
    """404 naming the field for a model the server did not load (None: any model will do)."""
    try:
        state.models.require(name)
    except UnknownModel as error:
        raise HTTPException(404, str(error)) from None
