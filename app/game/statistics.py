"""Accuracy with honest error bars: the Wilson score interval (good at small n and near 0 or 1,
where the normal approximation's p +- 1.96 sqrt(p(1-p)/n) leaves [0, 1] or collapses)."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Tally:
    key: str
    guesses: int = 0
    correct: int = 0

    def as_dict(self) -> dict:
        interval = wilson_interval(self.correct, self.guesses)
        fooled = self.guesses - self.correct
        fool = wilson_interval(fooled, self.guesses)
        return {
            "key": self.key,
            "guesses": self.guesses,
            "correct": self.correct,
            "accuracy": self.correct / self.guesses if self.guesses else None,
            "ci_low": interval[0] if interval else None,
            "ci_high": interval[1] if interval else None,
            "fooled": fooled,
            "fool_rate": fooled / self.guesses if self.guesses else None,
            "fool_ci_low": fool[0] if fool else None,
            "fool_ci_high": fool[1] if fool else None,
        }


def tally(rows: Iterable[tuple[str, bool]]) -> list[dict]:
    """(key, correct) pairs -> one summary per key, in key order."""
    tallies: dict[str, Tally] = {}
    for key, correct in rows:
        t = tallies.setdefault(key, Tally(key))
        t.guesses += 1
        t.correct += bool(correct)
    return [tallies[key].as_dict() for key in sorted(tallies)]


def saw_generated(mode: str, choice: str, correct: bool) -> bool:
    """Whether a guess was made with the model's passage on screen: always in pair mode; in
    single mode only when the one passage shown was the generated one (called "generated"
    rightly, or "real" wrongly). A single round that showed the real excerpt says nothing about
    the model behind its unseen twin, so the figures by model and temperature and the fool rate
    leave it out."""
    if mode != "single":
        return True
    return (choice == "generated") == bool(correct)


LENGTH_BUCKETS = ((0, 300, "under 300"), (300, 500, "300-499"), (500, 10**9, "500 and over"))


def length_bucket(length: int) -> str:
    for low, high, label in LENGTH_BUCKETS:
        if low <= length < high:
            return label
    return LENGTH_BUCKETS[-1][2]
