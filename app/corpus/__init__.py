"""The Shakespeare corpus: parsing the plays, one canonical rendering, splits and real excerpts."""

from app.corpus.corpus import (
    WORD,
    Corpus,
    CorpusError,
    ExportedCorpus,
    PlaysCorpus,
    SplitStats,
    TextFileCorpus,
    export_corpus,
    is_word_character,
    load_corpus,
    render_speech,
    sha256_text,
    speeches_of,
    spoken_words,
)
from app.corpus.excerpts import ExcerptError, RealExcerpt, context_before, sample_excerpt
from app.corpus.plays import Play, Scene, Speech, load_plays, parse_play
from app.corpus.splits import SPLITS, TEST_PLAYS, VALIDATION_PLAYS, Split, split_of_play

__all__ = [
    "SPLITS",
    "TEST_PLAYS",
    "VALIDATION_PLAYS",
    "WORD",
    "Corpus",
    "CorpusError",
    "ExcerptError",
    "ExportedCorpus",
    "Play",
    "PlaysCorpus",
    "RealExcerpt",
    "Scene",
    "Speech",
    "Split",
    "SplitStats",
    "TextFileCorpus",
    "context_before",
    "export_corpus",
    "is_word_character",
    "load_corpus",
    "load_plays",
    "parse_play",
    "render_speech",
    "sample_excerpt",
    "sha256_text",
    "speeches_of",
    "split_of_play",
    "spoken_words",
]
