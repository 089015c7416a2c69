"""Statistics and the export of every guess."""

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from app.game.export import EXPORT_COLUMNS, csv_text, export_rows
from app.game.statistics import compute_stats
from app.web.state import AppState, get_state

router = APIRouter(tags=["statistics"])
State = Annotated[AppState, Depends(get_state)]


@router.get("/api/stats")
def stats(state: State) -> dict:
    """Guesses and accuracy with Wilson 95% intervals: overall and by model, temperature, mode
    and passage length; and the models ranked by how often they fooled players."""
    with state.sessions() as session:
        return compute_stats(session)


@router.get("/api/export/columns")
def export_columns() -> dict:
    """What each column of guesses.csv / guesses.json means."""
    return EXPORT_COLUMNS


@router.get("/api/export/guesses.csv", response_class=StreamingResponse)
def export_csv(state: State) -> StreamingResponse:
    def body() -> Iterator[str]:
        with state.sessions() as session:
            yield from csv_text(export_rows(session))

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="guesses.csv"'},
    )


@router.get("/api/export/guesses.json", response_class=StreamingResponse)
def export_json(state: State) -> StreamingResponse:
    def body() -> Iterator[str]:
        yield '{"columns": ' + json.dumps(EXPORT_COLUMNS) + ', "guesses": ['
        with state.sessions() as session:
            for i, row in enumerate(export_rows(session)):
                yield ("," if i else "") + json.dumps(row)
        yield "]}"

    return StreamingResponse(
        body(),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="guesses.json"'},
    )
