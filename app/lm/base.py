"""The one interface every generator answers to, so the web layer never asks which kind it has.

A model family implements four hooks -- start a batch of contexts, give next-token probabilities,
advance the contexts, score a text -- and inherits sampling, streaming and bits per char from here:

    model.sample(SamplingParams(length=400, temperature=0.8, seed=1), count=4) -> list[Passage]
    model.sample(params, constraints=fn) -> passages steered by app/lm/constraints.py
    model.stream(params) -> iterator of text pieces as they are made
    model.surprisal(text) -> Surprisal (bits for each token of the text)
    model.bits_per_char(text) -> float
    model.info -> ModelInfo (name, kind, unit, parameters, figures)
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.lm.constraints import AllOf, Constraint, TokenTable
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

    @abstractmethod
    def tokenize(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens that spell `text` and their ids (the unknown token's id for a token outside
        the vocabulary): how forced text is fed to the model. ''.join(pieces) == text."""

    def format_constraint(self, table: TokenTable) -> Constraint | None:
        """A constraint every passage of this family is written under (word models: Glue)."""
        return None

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

    def sample(
        self,
        params: SamplingParams,
        count: int = 1,
        constraints: "ConstraintsFor | None" = None,
    ) -> list[Passage]:
        """`count` passages in one batch; passage i uses seed + i (equal to a lone draw with it).

        constraints(i) -> the Constraint of passage i (a fresh one: constraints keep state)."""
        pieces = [[params.prime] for _ in range(count)]
        seed = self._seed(params, count)
        for step, _ in self._generate(params, count, seed, constraints):
            for i, piece in enumerate(step):
                pieces[i].append(piece)
        return [Passage("".join(p), params.prime, seed + i) for i, p in enumerate(pieces)]

    def stream(
        self, params: SamplingParams, constraints: "ConstraintsFor | None" = None
    ) -> Iterator[str]:
        """Yield the prime, then each piece of text as it is made (one passage)."""
        seed = self._seed(params, 1)
        yield params.prime
        for step, _ in self._generate(params, 1, seed, constraints):
            yield step[0]

    def stream_with_die(
        self,
        params: SamplingParams,
        top: int = 5,
        constraints: "ConstraintsFor | None" = None,
    ) -> Iterator[tuple[str, list[tuple[str, float]]]]:
        """Like `stream`, each piece with the die it was rolled from: the `top` most likely
        tokens and their probabilities, after temperature, top-k, top-p and the constraints'
        masks (the lecture's weighted die; a forced piece's die is that piece alone). The prime
        comes first, with no die. Same seed, same text as `sample`."""
        seed = self._seed(params, 1)
        if params.prime:
            yield params.prime, []
        for step, probs in self._generate(params, 1, seed, constraints):
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
        self,
        params: SamplingParams,
        count: int,
        seed: int,
        constraints: "ConstraintsFor | None" = None,
    ) -> Iterator[tuple[list[str], np.ndarray]]:
        """Yield, step by step, the next piece of text of each passage until all are long enough
        (or their constraints say they are complete), with the (count, V) distributions the
        pieces were drawn from."""
        rngs = [np.random.default_rng(seed + i) for i in range(count)]
        state = self.begin(params.prime, count)
        length, vocabulary = params.length, self.vocabulary
        produced = [0] * count  # characters so far; plain ints, as numpy scalars are slow
        done = [False] * count
        allowed = None  # (V,) 0.0 for the never-sampled tokens, 1.0 for the rest
        steering = self._steering(params.prime, count, constraints)
        queued: list[list[tuple[str, int]]] = [[] for _ in range(count)]  # forced (piece, id)s
        while True:
            probs = self.next_probabilities(state)
            if self.never_sampled:
                if allowed is None:
                    allowed = np.ones(probs.shape[-1])
                    allowed[self.never_sampled] = 0.0
                probs = probs * allowed  # a new array, the model's untouched; p * 1.0 is p exactly
            forced: list[tuple[int, str, int]] = []  # (passage, piece, token id)
            if steering is not None:
                probs = self._steer(probs, steering, queued, done, forced)
            probs = shape(probs, params.temperature, params.top_k, params.top_p)
            token_ids = roll_die(probs, rngs)  # rolled for forced rows too: the same draws
            for i, _, token_id in forced:
                token_ids[i] = token_id
                probs[i] = 0.0
                probs[i, token_id] = 1.0  # the die of a forced piece: that piece alone
            forced_pieces = {i: piece for i, piece, _ in forced}
            step = []
            for i, token_id in enumerate(token_ids.tolist()):
                # a passage that is already complete keeps pace with the batch but adds nothing
                if done[i]:
                    step.append("")
                    continue
                piece = forced_pieces.get(i, vocabulary[token_id])[: length - produced[i]]
                produced[i] += len(piece)
                if steering is not None:
                    steering[i].accept(piece)
                    done[i] = steering[i].finished
                done[i] = done[i] or produced[i] >= length
                step.append(piece)
            yield step, probs  # before advancing: a stream gets its piece a step sooner
            if all(done):
                return  # the last token needs no state after it
            state = self.advance(state, token_ids)

    def _steering(
        self, prime: str, count: int, constraints: "ConstraintsFor | None"
    ) -> list[Constraint] | None:
        """Each passage's constraint (the caller's and the family's own), told of the prime."""
        table = TokenTable.of(self)
        steering = []
        for i in range(count):
            parts = [constraints(i) if constraints is not None else None]
            parts.append(self.format_constraint(table))
            parts = [part for part in parts if part is not None]
            if not parts:
                return None
            constraint = parts[0] if len(parts) == 1 else AllOf(parts)
            constraint.start(prime)
            steering.append(constraint)
        return steering

    def _steer(
        self,
        probs: np.ndarray,
        steering: list[Constraint],
        queued: list[list[tuple[str, int]]],
        done: list[bool],
        forced: list[tuple[int, str, int]],
    ) -> np.ndarray:
        """Mask each passage's die by its constraint, or note the piece it forces. (K, V)"""
        masked = None
        for i, constraint in enumerate(steering):
            if done[i]:
                continue
            if not queued[i]:
                text = constraint.forced()
                if text:
                    pieces, ids = self.tokenize(text)
                    queued[i] = list(zip(pieces, ids.tolist(), strict=True))
            if queued[i]:
                piece, token_id = queued[i].pop(0)
                forced.append((i, piece, token_id))
                continue
            move, mask = constraint.fold(), constraint.allowed()
            if move is None and mask is None:
                continue
            if masked is None:
                masked = probs.copy()
            if move is not None:
                tokens, target = move
                row = masked[i]
                moved = float(row @ tokens)
                row = row * (1.0 - tokens)
                row[target] += moved
                masked[i] = row
            if mask is None:
                continue
            row = masked[i] * mask
            total = row.sum()
            if total > 0:
                masked[i] = row
            elif mask.any():  # the model gives every allowed token 0: a fair die over them
                masked[i] = mask
            # else the constraint allows nothing: it is ignored rather than stall the passage
        return probs if masked is None else masked


ConstraintsFor = Callable[[int], Constraint | None]
