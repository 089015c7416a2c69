"""Rolling the lecture's weighted die: temperature, top-k and top-p on next-token distributions.

Shared by every model family, so the same flags mean the same thing everywhere.
"""

from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 20_000
MAX_COUNT = 64


class SamplingError(ValueError):
    """A sampling parameter out of range; the message names it."""


@dataclass(frozen=True)
class SamplingParams:
    length: int = 400  # characters to generate after the prime
    temperature: float = 1.0  # <1 sharpens the die, >1 flattens it
    top_k: int | None = None  # keep only the k most likely tokens
    top_p: float | None = None  # keep the smallest set of tokens with this much probability
    prime: str = ""  # text the passage starts with (it is part of the result)
    seed: int | None = None  # None: a fresh seed is drawn and reported

    def validated(self) -> "SamplingParams":
        if not 1 <= self.length <= MAX_LENGTH:
            raise SamplingError(f"length must be between 1 and {MAX_LENGTH}, got {self.length}")
        if not (self.temperature > 0 and np.isfinite(self.temperature)):
            raise SamplingError(f"temperature must be above 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise SamplingError(f"top_k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise SamplingError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise SamplingError(f"seed must be between 0 and 2**63-1, got {self.seed}")
        return self


def draw_seed() -> int:
    """A fresh seed for a caller who gave none; reported so the passage can be regenerated."""
    return int(np.random.default_rng().integers(0, 2**31))


def shape_distribution(
    probabilities: np.ndarray, temperature: float, top_k: int | None, top_p: float | None
) -> np.ndarray:
    """Temperature, top-k and top-p on next-token distributions. (K, V) -> (K, V), rows sum to 1."""
    probs = np.asarray(probabilities, dtype=np.float64)
    if temperature != 1.0:
        # p^(1/T), renormalised: the same as softmax(logits / T).
        with np.errstate(divide="ignore"):
            logp = np.log(probs) / temperature
        logp -= logp.max(axis=-1, keepdims=True)
        probs = np.exp(logp)
    if top_k is not None and top_k < probs.shape[-1]:
        kth_largest = -np.partition(-probs, top_k - 1, axis=-1)[..., top_k - 1 : top_k]
        probs = np.where(probs >= kth_largest, probs, 0.0)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        # keep a token while the mass before it is still below top_p (so the top token always stays)
        mass_before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
        keep_sorted = mass_before < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs = probs / probs.sum(axis=-1, keepdims=True)
    return probs


def roll_die(probabilities: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
    """One token per row by inverse-CDF sampling, each row with its own generator. (K, V) -> (K,)

    One generator per passage makes passage i of a batch equal to a single passage drawn with
    that passage's seed, so every passage can be regenerated on its own.
    """
    # (K, V), each row non-decreasing; np.add.accumulate is np.cumsum without its wrapper, whose
    # few microseconds count once per character
    cumulative = np.add.accumulate(probabilities, axis=-1)
    if len(rngs) == 1:
        # One passage, the common case: a binary search finds the same token as the count below
        # (the number of cumulative sums <= u), without the batch's arrays.
        row = cumulative[0]
        choice = int(row.searchsorted(rngs[0].random() * row[-1], "right"))
        return np.array([min(choice, len(row) - 1)])
    uniforms = np.array([rng.random() for rng in rngs]) * cumulative[:, -1]
    choices = (cumulative <= uniforms[:, None]).sum(axis=-1)
    return np.minimum(choices, probabilities.shape[-1] - 1)
