"""Generated passages made to face a real excerpt, differing from it only in their words.

The fake is written on the real excerpt's scaffold (app/lm/constraints.py): the same speakers in
the same order, the same number of lines in each speech, each line about as long as the real one,
each speech ending on the same mark. At medium and hard a lexicon keeps every word a word of the
training plays; at hard several candidates are written and the machine judge keeps the one it
finds most real. No fake copies a long run of the training text. Pure functions of the model and
a recipe, so any stored passage can be regenerated exactly.

Passages made before the scaffold (a recipe without one) were primed with the excerpt's first
line and cut at a line end near its length; `regenerate` still makes those.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.corpus import RealExcerpt, speeches_of
from app.lm.base import Generator
from app.lm.constraints import AllOf, Lexicon, Scaffold, SpeechShape, TokenTable, shape_of
from app.lm.sampling import SamplingParams

LENGTH_TOLERANCE = 0.10  # a generated passage is within 10% of its real excerpt's length
COPY_LIMIT = 40  # characters copied verbatim from the training text that reject a passage
OVERSHOOT = 1.3  # generate this much more than needed, so there is a line end to cut at
ATTEMPTS = 12  # seeds tried before giving up on an excerpt
MAX_CANDIDATES = 16
CONTEXT_LENGTH = 600  # characters of the scene before the excerpt the model reads first


@dataclass(frozen=True)
class Writing:
    """How the fakes of one pool key are written, beyond the model and its temperature."""

    lexicon: bool = False  # every word a word of the training plays
    candidates: int = 1  # written per passage; the judge keeps the one it finds most real

    def __post_init__(self):
        if not 1 <= self.candidates <= MAX_CANDIDATES:
            raise ValueError(f"candidates must be between 1 and {MAX_CANDIDATES}")


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a generated passage, given the model's checkpoint."""

    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int
    prime: str
    requested_length: int  # characters asked of the model after the prime (a cap, scaffolded)
    target_length: int  # characters of the real excerpt it faces
    scaffold: tuple[SpeechShape, ...] | None = None  # None: made before scaffolds
    lexicon: bool = False
    candidates: int = 1  # how many were written; this recipe's seed is the one kept

    def constraints(self) -> dict[str, Any]:
        """What the passages table keeps of the constraints (column `constraints`)."""
        if self.scaffold is None:
            return {}
        return {
            "scaffold": [shape.as_dict() for shape in self.scaffold],
            "lexicon": self.lexicon,
            "candidates": self.candidates,
        }

    @classmethod
    def of_stored(cls, passage: Any) -> "Recipe":
        """The recipe of a stored passage (a GeneratedPassage row, or anything with its columns):
        regenerate(generator, Recipe.of_stored(row), lexicon) == row.text."""
        stored = passage.constraints or {}
        fields: dict[str, Any] = {}
        if stored:
            fields = {
                "scaffold": tuple(SpeechShape.from_dict(s) for s in stored["scaffold"]),
                "lexicon": bool(stored.get("lexicon")),
                "candidates": int(stored.get("candidates", 1)),
            }
        return cls(
            passage.temperature,
            passage.top_k,
            passage.top_p,
            passage.seed,
            passage.prime,
            passage.requested_length,
            len(passage.real_text),
            **fields,
        )

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


# A spoken line that reads like a speaker's heading ("FIRST CITIZEN: away."): models trained on
# the plays write one now and then, and no real speech has one.
HEADING_LIKE = re.compile(r"^[A-Z][A-Z' ]*[A-Z]:")


def fits(text: str, scaffold: tuple[SpeechShape, ...], target_length: int) -> bool:
    """A scaffolded passage that came out as its scaffold says (speakers and line counts, no line
    that reads like a heading) and within the length tolerance of its real excerpt."""
    speeches = speeches_of(text)
    shapes = shape_of(speeches)
    same_structure = [(s.speaker, len(s.line_lengths)) for s in shapes] == [
        (s.speaker, len(s.line_lengths)) for s in scaffold
    ]
    headings_inside = any(HEADING_LIKE.match(line) for _, lines in speeches for line in lines)
    return (
        same_structure
        and not headings_inside
        and abs(len(text) - target_length) <= LENGTH_TOLERANCE * target_length
    )


def copies(text: str, context: str, limit: int = COPY_LIMIT) -> bool:
    """Whether `text` repeats `limit` characters of `context` verbatim."""
    return len(context) >= limit and any(
        text[i : i + limit] in context for i in range(len(text) - limit + 1)
    )


def steering(
    generator: Generator, recipes: Sequence[Recipe], lexicon: Lexicon | None
) -> Callable[[int], AllOf]:
    """constraints(i) for passage i of a batch written with `recipes[i]`."""
    table = TokenTable.of(generator)

    def constraints(i: int) -> AllOf:
        recipe = recipes[i]
        parts = [Scaffold(table, recipe.scaffold)]
        if recipe.lexicon:
            if lexicon is None:
                raise ValueError("this recipe needs the training plays' lexicon")
            parts.append(lexicon.constraint(table))
        return AllOf(parts)

    return constraints


def write(
    generator: Generator, recipes: Sequence[Recipe], lexicon: Lexicon | None
) -> list[str | None]:
    """The passages of scaffolded recipes that share all but their seeds and scaffolds, in one
    batch (seeds consecutive): passage i equals regenerate(recipes[i]). None where a passage
    does not fit its scaffold or length."""
    first = recipes[0]
    params = first.sampling_params()
    raws = generator.sample(params, len(recipes), steering(generator, recipes, lexicon))
    texts = []
    for recipe, raw in zip(recipes, raws, strict=True):
        text = tidy(raw.text[len(recipe.prime) :])  # the prime is context, never shown
        texts.append(text if fits(text, recipe.scaffold, recipe.target_length) else None)
    return texts


def regenerate(generator: Generator, recipe: Recipe, lexicon: Lexicon | None = None) -> str | None:
    """The passage a recipe makes: the same text every time for the same checkpoint (and, for a
    recipe with the lexicon, the same training plays)."""
    if recipe.scaffold is None:
        return render(generator.sample(recipe.sampling_params())[0].text, recipe.target_length)
    return write(generator, [recipe], lexicon)[0]


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
    writing: Writing | None = None,
    lexicon: Lexicon | None = None,
    judge: Callable[[list[str]], list[float]] | None = None,
    context: str = "",
) -> FacingPassage | None:
    """A generated passage to face `excerpt`, or None when no seed in `attempts` gives one that
    fits the excerpt's scaffold and length without copying COPY_LIMIT characters.

    copied_length(text) -> the longest span of text found verbatim in the training text.
    judge(texts) -> how real each text looks (higher: more real); with writing.candidates > 1 the
    candidates are written in one batch and the judge keeps the one it scores highest.
    context: the scene's text before the excerpt (app.corpus.context_before), read by the model
    first so that the fake goes on with the same scene; no fake copies COPY_LIMIT characters of
    it either.
    """
    writing = writing or Writing()
    scaffold = shape_of(speeches_of(excerpt.text))
    target = len(excerpt.text)
    requested = max(int(target * (1 + LENGTH_TOLERANCE)) + 1, 1)  # a cap: the scaffold ends it
    batch = writing.candidates if judge is not None else 1
    tried = 0
    while tried < max(attempts, batch):
        recipes = [
            Recipe(
                temperature,
                top_k,
                top_p,
                seed + tried + i,
                context,
                requested,
                target,
                scaffold,
                writing.lexicon,
                batch,
            )
            for i in range(batch)
        ]
        tried += batch
        usable = []
        for recipe, text in zip(recipes, write(generator, recipes, lexicon), strict=True):
            if text is None:
                continue
            copied = copied_length(text)
            if copied < COPY_LIMIT and not copies(text, context):
                usable.append(FacingPassage(text, recipe, copied))
        if not usable:
            continue
        if batch == 1:
            return usable[0]
        scores = judge([passage.text for passage in usable])
        return usable[max(range(len(usable)), key=lambda i: scores[i])]
    return None
