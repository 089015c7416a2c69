"""Generated passages made to face a real excerpt: same first speaker, same formatting, about the
same length, and no long copy of the training text. Pure functions of the model and a recipe,
so any stored passage can be regenerated exactly."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.corpus import RealExcerpt
from app.lm.base import Generator
from app.lm.sampling import SamplingParams

LENGTH_TOLERANCE = 0.10  # a generated passage is within 10% of its real excerpt's length
COPY_LIMIT = 40  # characters copied verbatim from the training text that reject a passage
OVERSHOOT = 1.3  # generate this much more than needed, so there is a line end to cut at
ATTEMPTS = 12  # seeds tried before giving up on an excerpt


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a generated passage, given the model's checkpoint."""

    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int
    prime: str
    requested_length: int  # characters asked of the model after the prime
    target_length: int  # characters of the real excerpt it faces

    def sampling_params(self) -> SamplingParams:
        return SamplingParams(
            length=self.requested_length,
            temperature=self.temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            prime=self.prime,
            seed=self.seed,
        )


@dataclass(frozen=True)
class FacingPassage:
    text: str
    recipe: Recipe
    longest_copied_span: int


def prime_for(excerpt_text: str) -> str:
    """The excerpt's first line, its speaker heading ("ROSALIND:\\n"): the fake starts alike."""
    return excerpt_text.split("\n", 1)[0] + "\n"


def tidy(text: str) -> str:
    """The real excerpts' formatting: no trailing spaces, one blank line between speeches."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text)


def whole_lines(passage: str) -> str:
    """Drop a cut-off last line and a dangling speaker heading: end the way real passages do."""
    lines = passage.split("\n") if passage.endswith("\n") else passage.split("\n")[:-1]
    while lines and (not lines[-1].strip() or lines[-1].endswith(":")):
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def cut_near(text: str, target: int, tolerance: float = LENGTH_TOLERANCE) -> str | None:
    """The cut at a line end whose length is nearest `target` and within the tolerance, or None.

    A cut never ends on a blank line or a speaker heading, and always ends with one newline.
    """
    low, high = target * (1 - tolerance), target * (1 + tolerance)
    best, best_gap = None, None
    for match in re.finditer("\n", text):
        end = match.end()
        if end > high:
            break
        candidate = whole_lines(text[:end])
        if len(candidate) != end or not low <= end <= high:
            continue  # this line end leaves a heading or blank line last: not a clean cut
        gap = abs(end - target)
        if best_gap is None or gap < best_gap:
            best, best_gap = candidate, gap
    return best


def render(raw: str, target_length: int) -> str | None:
    return cut_near(tidy(raw), target_length)


def regenerate(generator: Generator, recipe: Recipe) -> str | None:
    """The passage a recipe makes: the same text every time for the same checkpoint."""
    return render(generator.sample(recipe.sampling_params())[0].text, recipe.target_length)


def make_facing_passage(
    generator: Generator,
    excerpt: RealExcerpt,
    *,
    temperature: float,
    seed: int,
    copied_length: Callable[[str], int],
    top_k: int | None = None,
    top_p: float | None = None,
    attempts: int = ATTEMPTS,
) -> FacingPassage | None:
    """A generated passage to face `excerpt`, or None when no seed in `attempts` gives one
    that can be cut near the excerpt's length without copying COPY_LIMIT characters.

    copied_length(text) -> the longest span of text found verbatim in the training text.
    """
    prime = prime_for(excerpt.text)
    target = len(excerpt.text)
    requested = max(int(target * OVERSHOOT) - len(prime), 1)
    for attempt in range(attempts):
        recipe = Recipe(temperature, top_k, top_p, seed + attempt, prime, requested, target)
        text = regenerate(generator, recipe)
        if text is None:
            continue
        copied = copied_length(text)
        if copied >= COPY_LIMIT:
            continue
        return FacingPassage(text, recipe, copied)
    return None
