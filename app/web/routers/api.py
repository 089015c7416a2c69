"""Health, the generators, samples (whole or streamed), real excerpts."""

import json
import unicodedata
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, StreamingResponse

from app.corpus import ExcerptError, sample_excerpt
from app.corpus.excerpts import MAX_EXCERPT_LENGTH, MIN_EXCERPT_LENGTH
from app.game.registry import LoadedModel, UnknownModel
from app.lm.base import ConstraintsFor
from app.lm.constraints import spelled_from
from app.lm.provenance import TrainingTextUnavailable, describe_copy
from app.lm.sampling import SamplingError, SamplingParams, draw_seed
from app.web.limits import rate_limited
from app.web.state import AppState, get_state

router = APIRouter()
State = Annotated[AppState, Depends(get_state)]
MAX_SAMPLE_LENGTH = 2000  # characters after the prime; longer is a job for the CLI


@router.get("/healthz", tags=["meta"])
def healthz(state: State) -> dict:
    return {"status": "ok", "models": len(state.models), "pool_ready": state.pool.ready()}


@router.get("/readyz", tags=["meta"], responses={503: {"description": "not ready yet"}})
def readyz(state: State) -> JSONResponse:
    """Readiness, for a load balancer: 200 once the models are loaded and the pool holds a
    passage for every (model, temperature) in play, else 503 naming the keys still waiting.
    /healthz stays liveness."""
    waiting = [f"{key.model}@{key.temperature}" for key in state.pool.waiting()]
    body = {
        "status": "waiting" if waiting else "ready",
        "models": len(state.models),
        "keys": len(state.pool.keys),
        "waiting": waiting,
    }
    return JSONResponse(body, status_code=503 if waiting else 200)


@router.get("/api/models", tags=["models"])
def list_models(state: State) -> dict:
    return {"models": state.models.describe()}


def clean_prime(prime: str) -> str:
    """The prime as the plays are written: NFC, "\\n" line ends; 422 for control and format
    characters (NUL, escapes, bidi overrides, zero widths), naming the first."""
    prime = unicodedata.normalize("NFC", prime.replace("\r\n", "\n").replace("\r", "\n"))
    for position, character in enumerate(prime):
        if character != "\n" and not character.isprintable():
            name = unicodedata.name(character, "a control character")
            raise HTTPException(
                422, f"prime: must not hold U+{ord(character):04X} ({name}), at {position}"
            )
    return prime


class SampleQuery:
    """The query of /api/samples and /api/samples/stream, each parameter with its range."""

    def __init__(
        self,
        model: Annotated[
            str | None, Query(max_length=200, description="default: SAMPLE_MODEL")
        ] = None,
        length: Annotated[int, Query(ge=1, le=MAX_SAMPLE_LENGTH)] = 400,
        temperature: Annotated[float, Query(gt=0, le=5)] = 1.0,
        top_k: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        top_p: Annotated[float | None, Query(gt=0, le=1)] = None,
        prime: Annotated[str, Query(max_length=1000)] = "",
        seed: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
        lexicon: Annotated[
            bool,
            Query(description="every word a word of the training plays (as at medium and hard)"),
        ] = False,
    ):
        prime = clean_prime(prime)
        self.model, self.prime, self.lexicon = model, prime, lexicon
        self.params = SamplingParams(
            length=length,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            prime=prime,
            seed=seed if seed is not None else draw_seed(),
        )

    def generator(self, state: AppState) -> LoadedModel:
        """The model named, else the sample model (app/game/registry.py); 404 if not loaded."""
        try:
            return state.models.for_sampling(self.model)
        except UnknownModel as error:
            raise HTTPException(404, str(error)) from None

    def constraints(self, state: AppState, loaded: LoadedModel) -> ConstraintsFor | None:
        return spelled_from(state.pool.lexicon, loaded.generator) if self.lexicon else None

    def params_json(self) -> dict:
        params = self.params
        return {
            "length": params.length,
            "temperature": params.temperature,
            "top_k": params.top_k,
            "top_p": params.top_p,
            "prime": params.prime,
            "lexicon": self.lexicon,
        }


def copy_report(loaded: LoadedModel, text: str) -> dict | None:
    try:
        report = describe_copy(loaded.info, text)
    except TrainingTextUnavailable:
        return None  # a model trained on a text this server cannot find
    return {key: report[key] for key in ("length", "text", "generated_start", "source_start")} | {
        "source": report["source"]
    }


@router.get("/api/samples", tags=["samples"], dependencies=[Depends(rate_limited("samples"))])
def sample(state: State, query: Annotated[SampleQuery, Depends()]) -> dict:
    loaded = query.generator(state)
    try:
        passage = loaded.generator.sample(query.params, 1, query.constraints(state, loaded))[0]
    except SamplingError as error:
        raise HTTPException(422, str(error)) from None
    return {
        "text": passage.text,
        "model": loaded.info.name,
        "params": query.params_json(),
        "seed": passage.seed,
        "longest_copied_span": copy_report(loaded, passage.text),
    }


def sse(data: dict, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get(
    "/api/samples/stream",
    tags=["samples"],
    dependencies=[Depends(rate_limited("streams"))],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def sample_stream(
    state: State,
    query: Annotated[SampleQuery, Depends()],
    top: Annotated[int, Query(ge=0, le=20, description="next-token probabilities per step")] = 5,
) -> StreamingResponse:
    """Server-sent events: one message per token, {"text", "top": [{"token", "p"}]} (the die it
    was rolled from, after temperature, top-k, top-p and the lexicon's mask), then an event
    "done" with the whole passage, its seed and its longest copied span."""
    loaded = query.generator(state)
    try:
        query.params.validated()
    except SamplingError as error:
        raise HTTPException(422, str(error)) from None

    def events() -> Iterator[str]:
        # A sync generator: Starlette iterates it in a worker thread, off the event loop.
        pieces = []
        try:
            dice = loaded.generator.stream_with_die(
                query.params, top, query.constraints(state, loaded)
            )
            for piece, die in dice:
                pieces.append(piece)
                yield sse({"text": piece, "top": [{"token": t, "p": p} for t, p in die]})
        except SamplingError as error:
            yield sse({"detail": str(error)}, "error")
            return
        text = "".join(pieces)
        yield sse(
            {
                "text": text,
                "model": loaded.info.name,
                "params": query.params_json(),
                "seed": query.params.seed,
                "longest_copied_span": copy_report(loaded, text),
            },
            "done",
        )

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/api/excerpts", tags=["samples"])
def excerpt(
    state: State,
    length: Annotated[int, Query(ge=MIN_EXCERPT_LENGTH, le=MAX_EXCERPT_LENGTH)] = 400,
    seed: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> dict:
    """A real excerpt of the test plays (whole speeches of one scene, within 15% of length)."""
    seed = seed if seed is not None else draw_seed()
    try:
        found = sample_excerpt(state.corpus, length, seed, "test")  # type: ignore[arg-type]
    except ExcerptError as error:
        raise HTTPException(422, f"length: {error}") from None
    return {
        "text": found.text,
        "play": found.play,
        "play_slug": found.play_slug,
        "act": found.act,
        "scene": found.scene,
        "scene_label": found.scene_label,
        "speakers": list(found.speakers),
        "first_line": found.first_line,
        "last_line": found.last_line,
        "attribution": found.attribution(),
        "split": found.split,
        "seed": found.seed,
    }
