"""The app factory and its lifespan: load every checkpoint once, migrate the database, start the
passage pool's refill. `realornn serve` runs it under uvicorn."""

import gc
import logging
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from app.config import Settings, get_settings
from app.corpus import load_corpus
from app.db import HeldConnection, Room, make_engine, migrate, session_factory
from app.db.notify import RoomChangeListener, is_postgresql
from app.game import classroom
from app.game.pool import make_pool
from app.game.refill import SUPPORTED as refill_process_supported
from app.game.refill import RefillProcess
from app.game.registry import ModelRegistry
from app.web.charts import with_room_charts
from app.web.events import RoomEvents
from app.web.limits import RateLimiter, RequestLimits
from app.web.routers import api, game, pages, rooms, stats, tape
from app.web.security import SecurityHeaders
from app.web.state import AppState
from app.web.writer import IN_FLIGHT

log = logging.getLogger("realornn.server")


class NoGenerators(RuntimeError):
    """Not one checkpoint in the models folder loaded: nothing to play with."""


def build_state(settings: Settings, *, run_migrations: bool = True) -> AppState:
    url = settings.resolved_database_url()
    if run_migrations:
        migrate(url)
    models = ModelRegistry.load(settings)
    if not models:
        raise NoGenerators(
            f"no generator loaded from {settings.models_dir}: put a checkpoint (*.safetensors) "
            "there or set MODELS_DIR"
        )
    engine = make_engine(url, settings.sqlite_synchronous)
    sessions = session_factory(engine)
    corpus = load_corpus()  # the plays: real excerpts come from their test split
    pool = make_pool(settings, models, sessions, corpus)

    def read_version(code: str) -> int | None:
        with sessions() as session:
            room = session.get(Room, code)
            return room.version if room else None

    def read_state(code: str) -> dict | None:
        with sessions() as session:
            room = session.get(Room, code)
            return with_room_charts(classroom.public_state(session, room)) if room else None

    return AppState(
        settings=settings,
        secret_key=settings.resolved_secret_key(),
        engine=engine,
        sessions=sessions,
        models=models,
        corpus=corpus,
        pool=pool,
        room_events=RoomEvents(read_version, read_state),
        game_writes=HeldConnection(engine),
        rate_limiter=RateLimiter(settings.rate_limit_storage) if settings.rate_limits else None,
    )


ROOM_ERROR_STATUS: dict[type[classroom.RoomError], int] = {
    classroom.RoomNotFound: 404,
    classroom.NotAllowed: 403,
    classroom.Unauthenticated: 401,
    classroom.Conflict: 409,
}


def room_error_status(error: classroom.RoomError) -> int:
    """The HTTP status of a refusal by the classroom's rules (400 for a bad request)."""
    for kind in type(error).__mro__:
        if kind in ROOM_ERROR_STATUS:
            return ROOM_ERROR_STATUS[kind]
    return 400


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        try:
            state = build_state(settings, run_migrations=run_migrations)
        except NoGenerators as error:
            log.error("%s", error)  # uvicorn then says "Application startup failed" and exits
            raise
        app.state.realornn = state
        # The corpus, copy guards and models are ~300k long-lived objects that the cyclic GC
        # would walk again in every full collection: a pause of 0.2-1 s in the middle of the
        # requests. Frozen, they are left out of collection for the server's lifetime.
        gc.collect()
        gc.freeze()
        mode = settings.pool_refill
        if mode == "process" and not refill_process_supported:
            log.warning("no flock or nice on this system: the pool refills in a thread instead")
            mode = "thread"
        refill = RefillProcess(settings) if mode == "process" else None
        app.state.refill = refill
        if refill is not None:
            IN_FLIGHT.share(refill.players_busy)  # the writer's load, read by the refiller
            refill.start(store=state.pool.store)
        elif mode == "thread":
            state.pool.start()
        # PostgreSQL: another replica's room changes arrive by NOTIFY, not only by the poll
        url = settings.resolved_database_url()
        listener = RoomChangeListener(url, state.room_events.notify) if is_postgresql(url) else None
        app.state.room_listener = listener.start() if listener else None
        log.info(
            "serving %d models (%s); heatmap: %s",
            len(state.models),
            ", ".join(state.models),
            state.heatmap.info.name if state.heatmap else "none",
        )
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            if refill is not None:
                IN_FLIGHT.unshare(refill.players_busy)
                refill.stop()
            state.pool.stop()
            state.game_writes.close()
            state.engine.dispose()
            gc.unfreeze()  # what this app held may be collected again (tests run many apps)

    app = FastAPI(
        title="Real or RNN?",
        description="Which is the real Shakespeare? n-gram and RNN language models against the "
        "plays. Samples, real excerpts, game rounds, statistics.",
        version="0.2.0",
        lifespan=lifespan,
        docs_url=None,  # served by pages.py from vendored files: no CDN, no inline script
        redoc_url=None,
    )
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # added last, so outermost: on the 413s and 415s too

    @app.exception_handler(classroom.RoomError)
    async def room_error(request: Request, error: classroom.RoomError) -> JSONResponse:
        # one place turns the classroom's refusals into 400/401/403/404/409 with their message
        return JSONResponse({"detail": str(error)}, status_code=room_error_status(error))

    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    for router in (api.router, game.router, stats.router, rooms.router, tape.router, pages.router):
        app.include_router(router)
    return app
