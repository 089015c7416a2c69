"""Rounds, guesses and the player: the game's JSON API."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.db import Player, transaction
from app.game import PoolKey, keys_for
from app.web import rounds as game_rounds
from app.web.fastjson import json_response
from app.web.players import (
    ensure_player,
    get_or_create_player,
    player_id_from_cookie,
    player_view,
)
from app.web.pool import PooledPassage, PoolEmpty
from app.web.schemas import (
    GuessRequest,
    GuessResponse,
    NicknameRequest,
    PlayerView,
    RoundRequest,
    RoundResponse,
)
from app.web.state import AppState, get_state, require_known_model
from app.web.statistics import leaderboards
from app.web.writer import run_in_writer

router = APIRouter(tags=["game"])
State = Annotated[AppState, Depends(get_state)]


@router.post("/api/rounds", status_code=201, response_model=RoundResponse)
async def new_round(
    body: RoundRequest, state: State, request: Request, response: Response
) -> Response:
    """A round: two passages (pair) or one (single), in random order, with nothing that tells
    which is real. Guess with POST /api/rounds/{round_id}/guess."""
    require_known_model(state, body.model)
    keys = keys_for(body.difficulty, state.model_infos_in_game(), body.model)
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
    round_, passage = made
    payload = {
        "round_id": round_["id"],
        "mode": body.mode,
        "question": game_rounds.QUESTIONS[body.mode],
        "passages": [{"text": text} for text in game_rounds.shown_texts(round_["layout"], passage)],
        "expires_at": round_["expires_at"],
    }
    return json_response(payload, status_code=201, headers_of=response)


def store_round(
    state: AppState,
    keys: list[PoolKey],
    body: RoundRequest,
    request: Request,
    response: Response,
    passage: PooledPassage | None = None,
) -> tuple[dict, PooledPassage] | None:
    """One transaction: a pooled passage (unless one is given), the player, the round. None
    when the pool has no passage for the keys."""
    with state.game_writes.transaction() as connection:
        passage = passage or state.pool.pick(connection, keys)
        if passage is None:
            return None
        player_id = ensure_player(
            connection, request, response, state.secret_key, state.known_players
        )
        round_ = game_rounds.insert_round(
            connection,
            passage,
            mode=body.mode,
            difficulty=body.difficulty,
            ttl_seconds=state.settings.round_ttl_seconds,
            player_id=player_id,
        )
    return round_, passage


@router.post(
    "/api/rounds/{round_id}/guess",
    response_model=GuessResponse,
    responses={404: {"description": "no such round"}, 409: {"description": "already guessed"}},
)
async def guess(
    round_id: str, body: GuessRequest, state: State, request: Request, response: Response
) -> Response:
    """The one guess of a round: right or wrong, then everything about both passages."""
    payload = await run_in_writer(store_guess, state, round_id, body, request, response)
    return json_response(payload, headers_of=response)


def store_guess(
    state: AppState, round_id: str, body: GuessRequest, request: Request, response: Response
) -> dict:
    with state.game_writes.transaction() as connection:
        player_id = ensure_player(
            connection, request, response, state.secret_key, state.known_players
        )
        try:
            outcome = game_rounds.take_guess(connection, round_id, body.choice, player_id)
        except game_rounds.RoundNotFound as error:
            raise HTTPException(404, f"round_id: {error}") from None
        except game_rounds.BadChoice as error:
            raise HTTPException(422, f"choice: {error}") from None
        except game_rounds.RoundClosed as error:
            raise HTTPException(409, str(error)) from None
    passages, explanation = game_rounds.reveal(outcome.round, outcome.passage)
    return {
        "correct": outcome.correct,
        "answer": outcome.answer,
        "passages": passages,
        "heatmap_explanation": explanation,
        "player": player_view(outcome.player),
    }


@router.get("/api/players/me", response_model=PlayerView)
def me(state: State, request: Request, response: Response) -> dict:
    with transaction(state.sessions) as session:
        return player_view(get_or_create_player(session, request, response, state.secret_key))


@router.put("/api/players/me", response_model=PlayerView)
def set_nickname(body: NicknameRequest, state: State, request: Request, response: Response) -> dict:
    with transaction(state.sessions) as session:
        player = get_or_create_player(session, request, response, state.secret_key)
        player.nickname = body.nickname
        return player_view(player)


@router.get("/api/leaderboard")
def get_leaderboard(state: State) -> dict:
    with state.sessions() as session:
        return leaderboards(session)


def current_player_view(state: AppState, request: Request) -> dict:
    """For pages: the player of the cookie, or a blank one (pages do not create players)."""
    player_id = player_id_from_cookie(request, state.secret_key)
    with state.sessions() as session:
        player = session.get(Player, player_id) if player_id else None
        if player is None:
            return {
                "nickname": None,
                "score": 0,
                "streak": 0,
                "best_streak": 0,
                "guesses": 0,
                "correct": 0,
            }
        return player_view(player)
