"""The HTML pages (Jinja templates in templates/, scripts and styles in static/)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.game import classroom
from app.game.rules import DIFFICULTIES
from app.game.statistics import compute_stats, leaderboards
from app.web import charts
from app.web.cookies import room_tokens
from app.web.routers.game import current_player_view
from app.web.routers.rooms import join_url
from app.web.state import AppState, get_state

router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(get_state)]


def templates(request: Request) -> Jinja2Templates:
    return Jinja2Templates(directory=request.app.state.realornn.settings.templates_dir)


def render(request: Request, name: str, page: str, **context) -> HTMLResponse:
    return templates(request).TemplateResponse(
        request, name, {"page": page, **context}, headers={"Cache-Control": "no-store"}
    )


def models_context(state: AppState) -> list[dict]:
    return state.models.describe()


@router.get("/", response_class=HTMLResponse)
def play(request: Request, state: State) -> HTMLResponse:
    return render(
        request,
        "play.html",
        "play",
        models=[m for m in models_context(state) if m["in_game"]],
        difficulties=list(DIFFICULTIES),
        player=current_player_view(state, request),
    )


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, state: State) -> HTMLResponse:
    with state.sessions() as session:
        stats = compute_stats(session)
    svgs = {name: Markup(svg) for name, svg in charts.stats_charts(stats).items()}  # noqa: S704
    return render(request, "stats.html", "stats", stats=stats, charts=svgs)


@router.get("/explore", response_class=HTMLResponse)
def explore(request: Request, state: State) -> HTMLResponse:
    return render(
        request,
        "explore.html",
        "explore",
        models=models_context(state),
        default_model=state.models.for_sampling().info.name,
    )


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(request: Request, state: State) -> HTMLResponse:
    with state.sessions() as session:
        boards = leaderboards(session)
    return render(request, "leaderboard.html", "leaderboard", **boards)


@router.get("/how", response_class=HTMLResponse)
def how(request: Request, state: State) -> HTMLResponse:
    judge = state.models.judge
    return render(
        request,
        "how.html",
        "how",
        models=models_context(state),
        judge=judge.describe() if judge is not None else None,
    )


@router.get("/classroom", response_class=HTMLResponse)
def classroom_page(request: Request, state: State) -> HTMLResponse:
    return render(
        request,
        "classroom.html",
        "classroom",
        models=[m for m in models_context(state) if m["in_game"]],
        difficulties=list(DIFFICULTIES),
    )


@router.get("/classroom/{code}", response_class=HTMLResponse)
def classroom_host(code: str, request: Request, state: State) -> HTMLResponse:
    with state.sessions() as session:
        try:
            room = classroom.get_room(session, code)
        except classroom.RoomNotFound:
            return not_found(request, f"There is no room {code!r}.")
        is_host = classroom.identify(session, room, room_tokens(request, room.code)).role == "host"
    return render(
        request,
        "classroom_host.html",
        "classroom",
        code=room.code,
        join_url=join_url(state, request, room.code),
        qr_url=f"/api/rooms/{room.code}/qr.svg",
        is_host=is_host,
    )


@router.get("/join", response_model=None)
def join_form(request: Request, code: str = "") -> HTMLResponse | RedirectResponse:
    if code.strip():
        return RedirectResponse(f"/join/{classroom.normalise_code(code)}", status_code=303)
    return render(request, "join.html", "classroom", code="")


@router.get("/join/{code}", response_class=HTMLResponse)
def join_page(code: str, request: Request, state: State) -> HTMLResponse:
    with state.sessions() as session:
        try:
            room = classroom.get_room(session, code)
        except classroom.RoomNotFound:
            return not_found(request, f"There is no room {code!r}. Check the code on the screen.")
    return render(request, "join.html", "classroom", code=room.code)


def not_found(request: Request, message: str) -> HTMLResponse:
    response = render(request, "not_found.html", "", message=message)
    response.status_code = 404
    return response


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return render(request, "docs.html", "docs")
