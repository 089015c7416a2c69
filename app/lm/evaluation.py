"""Scoring models on held-out text: bits per char, perplexity and nats per char, on one scale."""

import math
from dataclasses import asdict, dataclass

from app.corpus import Corpus, TextFileCorpus
from app.lm.base import Generator


@dataclass(frozen=True)
class Evaluation:
    text_name: str  # "val", "test" or a file name
    characters: int
    tokens: int
    bits_per_char: float
    nats_per_char: float  # the unit of nanoGPT's and char-rnn's published losses
    perplexity_per_char: float
    perplexity_per_token: float  # equals the per-char figure for char models

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_text(model: Generator, text: str, text_name: str) -> Evaluation:
    if not text:
        raise ValueError(f"cannot evaluate on an empty text ({text_name})")
    surprisal = model.surprisal(text)
    bits = surprisal.total_bits
    bits_per_char = bits / len(text)
    return Evaluation(
        text_name=text_name,
        characters=len(text),
        tokens=len(surprisal.tokens),
        bits_per_char=bits_per_char,
        nats_per_char=bits_per_char * math.log(2),
        perplexity_per_char=2.0**bits_per_char,
        perplexity_per_token=2.0 ** (bits / len(surprisal.tokens)),
    )


def held_out_figures(model: Generator, corpus: Corpus) -> dict[str, float]:
    """The figures a checkpoint records: bits per char on val (and test, for the plays)."""
    figures = {}
    for split in corpus.held_out_splits:
        result = evaluate_text(model, corpus.text(split), split)
        figures[f"{split}_bits_per_char"] = round(result.bits_per_char, 5)
    if isinstance(corpus, TextFileCorpus):
        figures["val_nats_per_char"] = round(figures["val_bits_per_char"] * math.log(2), 5)
    return figures
