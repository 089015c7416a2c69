"""Request and response bodies of the JSON API (OpenAPI at /docs is generated from these)."""

import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored


class RoundRequest(Strict):
    mode: Literal["pair", "single"] = "pair"
    difficulty: Literal["mixed", "easy", "medium", "hard"] = "mixed"
    model: str | None = Field(None, max_length=200, description="only this generator")


class ShownPassage(BaseModel):
    text: str


class RoundResponse(BaseModel):
    round_id: str
    mode: str
    question: str
    passages: list[ShownPassage]
    expires_at: datetime


class GuessRequest(Strict):
    choice: int | Literal["real", "generated"] = Field(
        description="pair mode: 0 or 1, the passage you think is real; single: real|generated"
    )

    @field_validator("choice", mode="before")
    @classmethod
    def no_bools(cls, value: Any) -> Any:
        if isinstance(value, bool):  # JSON true would otherwise pass as 1
            raise ValueError("choice must be 0, 1, 'real' or 'generated'")
        return value


class PlayerView(BaseModel):
    nickname: str | None
    score: int
    streak: int
    best_streak: int
    guesses: int
    correct: int


class Surprisal(BaseModel):
    model: str
    bits: list[float]
    mean_bits: float


class RevealedPassage(BaseModel):
    real: bool
    source: dict[str, Any]
    surprisal: Surprisal | None


class GuessResponse(BaseModel):
    correct: bool
    answer: int | str
    passages: list[RevealedPassage]
    heatmap_explanation: str
    player: PlayerView


class NicknameRequest(Strict):
    nickname: str = Field(min_length=1, max_length=24)

    @field_validator("nickname")
    @classmethod
    def printable(cls, value: str) -> str:
        return clean_nickname(value)


def clean_nickname(value: str) -> str:
    """NFKC (full-width and styled letters become plain ones: "Ｒｏｍｅｏ" is "Romeo"), runs of
    white space one space; control and format characters (NUL, bidi overrides, zero widths)
    refused, naming the first one."""
    value = " ".join(unicodedata.normalize("NFKC", value).split())
    for character in value:
        if not character.isprintable():
            name = unicodedata.name(character, "a control character")
            raise ValueError(f"must not hold U+{ord(character):04X} ({name})")
    if not 1 <= len(value) <= 24:
        raise ValueError("must be 1-24 printable characters")
    return value
