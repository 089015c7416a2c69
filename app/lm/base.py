"""The one interface every generator answers to, so the web layer never asks which kind it has.

A model family implements four hooks -- start a batch of contexts, give next-token probabilities,
advance the contexts, score a text -- and inherits sampling, streaming and bits per char from here:

    model.sample(SamplingParams(length=400, temperature=0.8, seed=1), count=4) -> list[Passage]
    model.stream(params) -> iterator of text pieces as they are made
    model.surprisal(text) -> Surprisal (bits for each token of the text)
    model.bits_per_char(text) -> float
    model.info -> ModelInfo (name, kind, unit, parameters, figures)
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.lm.sampling import MAX_COUNT, SamplingError, SamplingParams, draw_seed, roll_die
from app.lm.sampling import shape_distribution as shape


@dataclass
class ModelInfo:
    """What a checkpoint says about itself; everything `realornn models` and /api/models show."""

    name: str
    kind: str  # "ngram" or "rnn"
    unit: str  # "char" or "word"
    parameters: dict[str, Any]  # architecture: order and smoothing, or layers and sizes
    corpus: str  # "shakespeare-plays" or "text:FILE"
    corpus_sha256: str
    figures: dict[str, Any] = field(
        default_factory=dict
    )  # "val_bits_per_char", "test_bits_per_char", ...
    training: dict[str, Any] = field(default_factory=dict)  # time, device, command, date
    path: str = ""
    file_bytes: int = 0


@dataclass(frozen=True)
class Passage:
    text: str  # the prime followed by the generated continuation
    prime: str
    seed: int


@dataclass(frozen=True)
class Surprisal:
    """Surprisal -log2 p(token | history) of each token; the tokens concatenate to the text."""

    tokens: list[str]
    bits: np.ndarray  # (n_tokens,)

    @property
    def total_bits(self) -> float:
        return float(self.bits.sum())

    def per_char(self) -> np.ndarray:
        """Each character gets its token's bits spread evenly: a heatmap for any unit. (n_chars,)"""
        lengths = np.array([len(t) for t in self.tokens], dtype=np.int64)
        return np.repeat(self.bits / np.maximum(lengths, 1), lengths)


class Generator(ABC):
    """Base class of every language model in the game."""

    info: ModelInfo
    vocabulary: list[str]  # token id -> text
    never_sampled: list[int]  # token ids that must never be emitted (the unknown token)

    # -- the hooks a model family implements ------------------------------------------------
    @abstractmethod
    def begin(self, prime: str, count: int) -> Any:
        """State for `count` passages that all start with `prime`."""

    @abstractmethod
    def next_probabilities(self, state: Any) -> np.ndarray:
        """p(next token | each passage so far). (count, V), rows sum to 1."""

    @abstractmethod
    def advance(self, state: Any, token_ids: np.ndarray) -> Any:
        """Append one token to each passage. token_ids: (count,)"""

    @abstractmethod
    def surprisal(self, text: str) -> Surprisal:
        """Bits of surprise for each token of `text`, scored from an empty history."""

    # -- shared behaviour ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.info.name

    def bits_per_char(self, text: str) -> float:
        """Total surprisal over the number of characters: one scale for char and word models."""
        if not text:
            raise ValueError("cannot score an empty text")
        return self.surprisal(text).total_bits / len(text)

    def perplexity_per_char(self, text: str) -> float:
        return math.pow(2.0, self.bits_per_char(text))

    def sample(self, params: SamplingParams, count: int = 1) -> list[Passage]:
        """`count` passages in one batch; passage i uses seed + i (equal to a lone draw with it)."""
        pieces = [[params.prime] for _ in range(count)]
        seed = self._seed(params, count)
        for step, _ in self._generate(params, count, seed):
            for i, piece in enumerate(step):
                pieces[i].append(piece)
        return [Passage("".join(p), params.prime, seed + i) for i, p in enumerate(pieces)]

    def stream(self, params: SamplingParams) -> Iterator[str]:
        """Yield the prime, then each piece of text as it is made (one passage)."""
        seed = self._seed(params, 1)
        yield params.prime
        for step, _ in self._generate(params, 1, seed):
            yield step[0]

    def stream_with_die(
        self, params: SamplingParams, top: int = 5
    ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        """Like `stream`, each piece with the die it was rolled from: the `top` most likely
        tokens and their probabilities, after temperature, top-k and top-p (the lecture's
        weighted die). The prime comes first, with no die. Same seed, same text as `sample`."""
        seed = self._seed(params, 1)
        if params.prime:
            yield params.prime, []
        for step, probs in self._generate(params, 1, seed):
            row = probs[0]  # (V,)
            best = np.argsort(-row, kind="stable")[:top]
            yield step[0], [(self.vocabulary[i], float(row[i])) for i in best if row[i] > 0]

    def resolved_seed(self, params: SamplingParams) -> int:
        return params.seed if params.seed is not None else draw_seed()

    def _seed(self, params: SamplingParams, count: int) -> int:
        params.validated()
        if not 1 <= count <= MAX_COUNT:
            raise SamplingError(f"count must be between 1 and {MAX_COUNT}, got {count}")
        return self.resolved_seed(params)

    def _generate(
        self, params: SamplingParams, count: int, seed: int
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        """Yield, step by step, the next piece of text of each passage until all are long enough,
        with the (count, V) distributions the pieces were drawn from."""
        rngs = [np.random.default_rng(seed + i) for i in range(count)]
        state = self.begin(params.prime, count)
        length, vocabulary = params.length, self.vocabulary
        produced = [0] * count  # characters so far; plain ints, as numpy scalars are slow
        allowed = None  # (V,) 0.0 for the never-sampled tokens, 1.0 for the rest
        while True:
            probs = self.next_probabilities(state)
            if self.never_sampled:
                if allowed is None:
                    allowed = np.ones(probs.shape[-1])
                    allowed[self.never_sampled] = 0.0
                probs = probs * allowed  # a new array, the model's untouched; p * 1.0 is p exactly
            probs = shape(probs, params.temperature, params.top_k, params.top_p)
            token_ids = roll_die(probs, rngs)
            step = []
            for i, token_id in enumerate(token_ids.tolist()):
                # a passage that is already long enough keeps pace with the batch but adds nothing
                piece = vocabulary[token_id][: length - produced[i]] if produced[i] < length else ""
                produced[i] += len(piece)
                step.append(piece)
            yield step, probs  # before advancing: a stream gets its piece a step sooner
            if min(produced) >= length:
                return  # the last token needs no state after it
            state = self.advance(state, token_ids)
