"""What the server holds for its lifetime, built once by the lifespan."""

from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.corpus import Corpus
from app.db import HeldConnection
from app.game import PoolKey
from app.web.events import RoomEvents
from app.web.models import LoadedModel
from app.web.players import KnownPlayers
from app.web.pool import PassagePool


@dataclass
class AppState:
    settings: Settings
    secret_key: str
    engine: Engine
    sessions: sessionmaker[Session]
    models: dict[str, LoadedModel]
    corpus: Corpus  # the plays: real excerpts come from its test split
    heatmap: LoadedModel | None
    pool: PassagePool
    room_events: RoomEvents
    game_writes: HeldConnection  # the solo game's rounds and guesses (app/web/writer.py)
    known_players: KnownPlayers = field(default_factory=KnownPlayers)  # see ensure_player

    @property
    def game_keys(self) -> list[PoolKey]:
        return self.pool.keys

    def model_infos_in_game(self):
        return [m.info for m in self.models.values() if m.guarded]

    def default_model(self) -> LoadedModel:
        return self.heatmap or next(iter(self.models.values()))

    def sample_model(self) -> LoadedModel:
        """For live sampling when no model is named: SAMPLE_MODEL, else the default model."""
        return self.models.get(self.settings.sample_model) or self.default_model()


async def get_state(request: Request) -> AppState:
    # async: FastAPI would run a plain def dependency in its threadpool, a thread hop per request
    return request.app.state.realornn


def require_known_model(state: AppState, name: str | None) -> None:
    """404 naming the field for a model the server did not load (None: any model will do)."""
    if name is not None and name not in state.models:
        raise HTTPException(404, f"model: no model {name!r} (loaded: {', '.join(state.models)})")
