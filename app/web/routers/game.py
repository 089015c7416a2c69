"""Rounds, guesses and the player: the game's JSON API. The game itself (how a round is made,
guessed and scored) is app/game/rounds.py; here the request is parsed, the work is put on the
right thread, and a new player gets their cookie."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.db import transaction
from app.game import rounds as game_rounds
from app.game.players import existing_player_view, get_or_create_player, player_view
from app.game.pool import PooledPassage, PoolEmpty
from app.game.rules import PoolKey, keys_for
from app.game.statistics import leaderboards
from app.web.cookies import give_cookie, player_id_from_cookie
from app.web.fastjson import json_response
from app.web.limits import rate_limited
from app.web.schemas import (
    GuessRequest,
    GuessResponse,
    NicknameRequest,
    PlayerView,
    RoundRequest,
    RoundResponse,
)
from app.web.state import AppState, get_state, require_known_model
from app.web.writer import run_in_writer

router = APIRouter(tags=["game"])
State = Annotated[AppState, Depends(get_state)]


@router.post(
    "/api/rounds",
    status_code=201,
    response_model=RoundResponse,
    dependencies=[Depends(rate_limited("rounds"))],
)
async def new_round(
    body: RoundRequest, state: State, request: Request, response: Response
) -> Response:
    """A round: two passages (pair) or one (single), in random order, with nothing that tells
    which is real. Guess with POST /api/rounds/{round_id}/guess."""
    require_known_model(state, body.model)
    keys = keys_for(body.difficulty, state.models.in_game(), body.model)
    if not keys:
        raise HTTPException(
            404, f"model: {body.model!r} is not in the game (its training text is unavailable)"
        )
    try:
        made = await run_in_writer(store_round, state, keys, body, request, response)
        if made is None:  # the bank holds nothing for these keys yet: generate one, off the
            passage = await run_in_threadpool(state.pool.make_for_round, keys)  # writer thread
            made = await run_in_writer(store_round, state, keys, body, request, response, passage)
    except PoolEmpty as error:
        raise HTTPException(409, f"model: {error}") from None
    shown = game_rounds.shown_round(made.values, made.passage)
    return json_response(shown, status_code=201, headers_of=response)


def store_round(
    state: AppState,
    keys: list[PoolKey],
    body: RoundRequest,
    request: Request,
    response: Response,
    passage: PooledPassage | None = None,
) -> game_rounds.SoloRound | None:
    """On the writer thread: the round's transaction, and a new player's cookie."""
    made = game_rounds.serve_round(
        state.game_writes,
        state.pool,
        keys,
        mode=body.mode,
        difficulty=body.difficulty,
        ttl_seconds=state.settings.round_ttl_seconds,
        claimed_player=player_id_from_cookie(request, state.secret_key),
        known=state.known_players,
        passage=passage,
    )
    if made is not None:
        give_cookie(request, response, state.secret_key, made.player)
    return made


@router.post(
    "/api/rounds/{round_id}/guess",
    response_model=GuessResponse,
    dependencies=[Depends(rate_limited("guesses"))],
    responses={404: {"description": "no such round"}, 409: {"description": "already guessed"}},
)
async def guess(
    round_id: str, body: GuessRequest, state: State, request: Request, response: Response
) -> Response:
    """The one guess of a round: right or wrong, then everything about both passages."""
    try:
        answer = await run_in_writer(store_guess, state, round_id, body, request, response)
    except game_rounds.RoundNotFound as error:
        raise HTTPException(404, f"round_id: {error}") from None
    except game_rounds.BadChoice as error:
        raise HTTPException(422, f"choice: {error}") from None
    except game_rounds.RoundClosed as error:
        raise HTTPException(409, str(error)) from None
    return json_response(answer, headers_of=response)


def store_guess(
    state: AppState, round_id: str, body: GuessRequest, request: Request, response: Response
) -> dict:
    """On the writer thread: the guess's transaction, and a new player's cookie."""
    answer, player = game_rounds.play_guess(
        state.game_writes,
        round_id,
        body.choice,
        claimed_player=player_id_from_cookie(request, state.secret_key),
        known=state.known_players,
    )
    give_cookie(request, response, state.secret_key, player)
    return answer


@router.get("/api/players/me", response_model=PlayerView)
def me(state: State, request: Request, response: Response) -> dict:
    with transaction(state.sessions) as session:
        player, claim = get_or_create_player(
            session, player_id_from_cookie(request, state.secret_key)
        )
        give_cookie(request, response, state.secret_key, claim)
        return player_view(player)


@router.put("/api/players/me", response_model=PlayerView)
def set_nickname(body: NicknameRequest, state: State, request: Request, response: Response) -> dict:
    with transaction(state.sessions) as session:
        player, claim = get_or_create_player(
            session, player_id_from_cookie(request, state.secret_key)
        )
        give_cookie(request, response, state.secret_key, claim)
        player.nickname = body.nickname
        return player_view(player)


@router.get("/api/leaderboard")
def get_leaderboard(state: State) -> dict:
    with state.sessions() as session:
        return leaderboards(session)


def current_player_view(state: AppState, request: Request) -> dict:
    """For pages: the player of the cookie, or a blank one (pages do not create players)."""
    with state.sessions() as session:
        return existing_player_view(session, player_id_from_cookie(request, state.secret_key))
