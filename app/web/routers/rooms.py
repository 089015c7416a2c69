"""Classroom rooms: create, join, start a round, vote, reveal, end, live events, export. The
room's rules are app/game/classroom.py; here are the tokens, the cookies and the live events."""

import io
from collections.abc import Iterator
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from app.db import transaction
from app.game import classroom
from app.game.export import EXPORT_COLUMNS, csv_text, export_rows
from app.game.pool import PoolEmpty
from app.web.charts import with_room_charts
from app.web.cookies import HOST_COOKIE, PLAYER_COOKIE, room_tokens, set_room_cookie
from app.web.limits import rate_limited
from app.web.schemas import NicknameRequest, Strict
from app.web.state import AppState, get_state, require_known_model

router = APIRouter(tags=["classroom"])
State = Annotated[AppState, Depends(get_state)]


class RoomRequest(Strict):
    difficulty: str = Field("mixed", pattern="^(mixed|easy|medium|hard)$")
    model: str | None = Field(None, max_length=200)
    rounds: int = Field(5, ge=1, le=30)
    timer_seconds: int | None = Field(None, ge=5, le=600)


class VoteRequest(Strict):
    choice: int = Field(ge=0, le=1, description="the passage you think is real: 0 or 1")


def join_url(state: AppState, request: Request, code: str) -> str:
    base = state.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/join/{code}"


@router.post("/api/rooms", status_code=201, dependencies=[Depends(rate_limited("rooms"))])
def create_room(body: RoomRequest, state: State, request: Request, response: Response) -> dict:
    """A room for a class; the host token (also set as a cookie for the projector page) is
    needed to start rounds, reveal, end and export."""
    require_known_model(state, body.model)
    with transaction(state.sessions) as session:
        room, host_token = classroom.create_room(
            session,
            difficulty=body.difficulty,
            model=body.model,
            rounds=body.rounds,
            timer_seconds=body.timer_seconds,
        )
    set_room_cookie(request, response, HOST_COOKIE.format(room.code), host_token)
    return {
        "code": room.code,
        "host_token": host_token,
        "join_url": join_url(state, request, room.code),
        "qr_url": f"/api/rooms/{room.code}/qr.svg",
    }


@router.get("/api/rooms/{code}")
def room_state(code: str, state: State, request: Request) -> dict:
    """The room's state, and "you": the caller's role, vote and score (from its token)."""
    with state.sessions() as session:
        room, caller = classroom.open_room(session, code, room_tokens(request, code))
        return with_room_charts(classroom.public_state(session, room)) | {
            "you": classroom.personal_view(session, room, caller)
        }


@router.post(
    "/api/rooms/{code}/players", status_code=201, dependencies=[Depends(rate_limited("joins"))]
)
def join_room(
    code: str, body: NicknameRequest, state: State, request: Request, response: Response
) -> dict:
    with transaction(state.sessions) as session:
        room = classroom.get_room(session, code)
        member, token = classroom.join(session, room, body.nickname)
        room_code = room.code
    state.room_events.notify(room_code)
    set_room_cookie(request, response, PLAYER_COOKIE.format(room_code), token)
    return {"player_token": token, "nickname": member.nickname}


@router.post(
    "/api/rooms/{code}/rounds", status_code=201, dependencies=[Depends(rate_limited("rounds"))]
)
def start_round(code: str, state: State, request: Request) -> dict:
    """(host) The next round: everyone sees the same pair."""
    try:
        room_code, shown = classroom.next_round(
            state.sessions, state.pool, state.models.in_game(), code, room_tokens(request, code)
        )
    except PoolEmpty as error:
        raise HTTPException(409, f"model: {error}") from None
    state.room_events.notify(room_code)
    return shown


@router.post(
    "/api/rooms/{code}/rounds/{round_id}/votes",
    status_code=201,
    dependencies=[Depends(rate_limited("votes"))],
)
def vote(code: str, round_id: str, body: VoteRequest, state: State, request: Request) -> dict:
    """(player) One vote per round, until the reveal or the timer."""
    with transaction(state.sessions) as session:
        room, caller = classroom.open_room(session, code, room_tokens(request, code), need="player")
        assert caller.member is not None  # open_room refuses a caller that is not a player
        votes = classroom.vote(session, room, round_id, caller.member, body.choice)
        room_code = room.code
    state.room_events.notify(room_code)
    return {"accepted": True, "votes": votes}


@router.post("/api/rooms/{code}/rounds/{round_id}/reveal")
def reveal(code: str, round_id: str, state: State, request: Request) -> dict:
    """(host) Close the vote: the split, the answer, the sources and the heatmaps."""
    with transaction(state.sessions) as session:
        room, _ = classroom.open_room(session, code, room_tokens(request, code), need="host")
        result = classroom.reveal(session, room, round_id)
        room_code = room.code
    state.room_events.notify(room_code)
    return result


@router.post("/api/rooms/{code}/end")
def end_room(code: str, state: State, request: Request) -> dict:
    """(host) End the session: the class's figures."""
    with transaction(state.sessions) as session:
        room, _ = classroom.open_room(session, code, room_tokens(request, code), need="host")
        classroom.end(session, room)
        result = with_room_charts(classroom.public_state(session, room)) | {"you": {"role": "host"}}
    state.room_events.notify(room.code)
    return result


@router.get(
    "/api/rooms/{code}/events",
    dependencies=[Depends(rate_limited("events"))],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def room_events(code: str, state: State, request: Request) -> StreamingResponse:
    """Server-sent events: `event: state` with the public state on connect and on every change
    (a reconnecting phone gets the current state at once); comment heartbeats in between."""
    with state.sessions() as session:
        room_code = classroom.get_room(session, code).code

    async def stream():
        async for payload in state.room_events.subscribe(room_code):
            if await request.is_disconnected():
                break
            yield ": heartbeat\n\n" if payload is None else f"event: state\ndata: {payload}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def hosted_room_code(state: AppState, request: Request, code: str) -> str:
    """The room's code, once the caller is known to be its host (exports are the host's)."""
    with state.sessions() as session:
        room, _ = classroom.open_room(session, code, room_tokens(request, code), need="host")
        return room.code


@router.get("/api/rooms/{code}/export.csv", response_class=StreamingResponse)
def export_csv(code: str, state: State, request: Request) -> StreamingResponse:
    """(host) Every vote of the room, with the columns of /api/export/guesses.csv."""
    room_code = hosted_room_code(state, request, code)

    def body() -> Iterator[str]:
        with state.sessions() as session:
            yield from csv_text(export_rows(session, room_code=room_code))

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="room-{room_code}.csv"'},
    )


@router.get("/api/rooms/{code}/export.json")
def export_json(code: str, state: State, request: Request) -> dict:
    room_code = hosted_room_code(state, request, code)
    with state.sessions() as session:
        return {"columns": EXPORT_COLUMNS, "votes": list(export_rows(session, room_code=room_code))}


@router.get("/api/rooms/{code}/qr.svg", response_class=Response)
def qr_code(code: str, state: State, request: Request) -> Response:
    """The join URL as a QR code, made here (segno): no network in the lecture hall."""
    with state.sessions() as session:
        room_code = classroom.get_room(session, code).code
    buffer = io.BytesIO()
    segno.make(join_url(state, request, room_code), error="m").save(
        buffer, kind="svg", scale=8, border=2, xmldecl=False, dark="#111", light="#fff"
    )
    return Response(buffer.getvalue(), media_type="image/svg+xml")
