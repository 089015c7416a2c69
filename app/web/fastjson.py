"""JSON answers for the game's two hot endpoints, a round and a guess, made by orjson.

Given a dict and a response_model, FastAPI validates the dict against the model and then
serializes it: for a guess that is ~900 surprisal numbers checked one by one, a sixth of the
server's CPU on the event loop (docs/serve-benchmark.md). These endpoints build their answers
from the database's own columns (the stored surprisal lists pass through as orjson Fragments,
app/game/rounds.py's stored_json), so the second check buys nothing; they return a Response made
here instead (FastAPI then passes it on untouched, and still documents the response_model), and
the tests validate the answers against the models.
"""

from typing import Any

import orjson
from fastapi import Response


def json_response(
    payload: dict[str, Any], *, status_code: int = 200, headers_of: Response | None = None
) -> Response:
    """`payload` as application/json. `headers_of`: the Response an endpoint was handed (where
    a new player's cookie was set), whose headers FastAPI would have copied over itself."""
    response = Response(
        orjson.dumps(payload), status_code=status_code, media_type="application/json"
    )
    if headers_of is not None:
        response.headers.raw.extend(headers_of.headers.raw)
    return response
