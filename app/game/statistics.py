"""Accuracy statistics straight from the guesses table, with honest error bars: the Wilson score
interval (good at small n and near 0 or 1, where the normal approximation's
p +- 1.96 sqrt(p(1-p)/n) leaves [0, 1] or collapses)."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Guess, Player
from app.game.players import pseudonym

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


# -- the queries ------------------------------------------------------------------------------
def compute_stats(session: Session) -> dict:
    """Every guess tallied overall and by model, temperature, mode and passage length, and the
    models ranked by how often they fooled players: /api/stats and the stats page."""
    rows = session.execute(
        select(
            Guess.model,
            Guess.temperature,
            Guess.mode,
            Guess.passage_length,
            Guess.choice,
            Guess.correct,
            Guess.difficulty,
            Guess.judge_correct,
        )
    ).all()
    overall = tally(("all", row.correct) for row in rows)
    # by model and temperature: only guesses made with that model's passage on screen
    seen = [row for row in rows if saw_generated(row.mode, row.choice, row.correct)]
    by_model = tally((row.model, row.correct) for row in seen)
    return {
        "overall": overall[0] if overall else Tally("all").as_dict(),
        "by_model": by_model,
        "by_temperature": tally((f"{row.temperature:g}", row.correct) for row in seen),
        "by_mode": tally((row.mode, row.correct) for row in rows),
        "by_length": tally((length_bucket(row.passage_length), row.correct) for row in rows),
        "fool_leaderboard": sorted(
            (
                {
                    "model": row["key"],
                    "guesses": row["guesses"],
                    "fooled": row["fooled"],
                    "fool_rate": row["fool_rate"],
                    "ci_low": row["fool_ci_low"],
                    "ci_high": row["fool_ci_high"],
                }
                for row in by_model
            ),
            key=lambda r: (-(r["fool_rate"] or 0), -r["guesses"]),
        ),
        "human_vs_judge": human_vs_judge(rows),
    }


def human_vs_judge(rows) -> dict:
    """The players' accuracy beside the machine judge's on the same rounds (those it judged),
    overall, by difficulty and by model (the model's passage on screen), with Wilson intervals."""
    judged = [row for row in rows if row.judge_correct is not None]

    def side_by_side(key_of, subset) -> list[dict]:
        players = {t["key"]: t for t in tally((key_of(row), row.correct) for row in subset)}
        machine = {t["key"]: t for t in tally((key_of(row), row.judge_correct) for row in subset)}
        return [
            {
                "key": key,
                "rounds": players[key]["guesses"],
                "players": players[key],
                "judge": machine[key],
            }
            for key in sorted(players)
        ]

    overall = side_by_side(lambda row: "all", judged)
    seen = [row for row in judged if saw_generated(row.mode, row.choice, row.correct)]
    return {
        "overall": overall[0] if overall else None,
        "by_difficulty": side_by_side(lambda row: row.difficulty, judged),
        "by_model": side_by_side(lambda row: row.model, seen),
    }


def leaderboard(session: Session, limit: int = 20) -> list[dict]:
    players = session.scalars(
        select(Player)
        .where(Player.guesses > 0)
        .order_by(Player.score.desc(), Player.best_streak.desc(), Player.guesses)
        .limit(limit)
    ).all()
    return [
        {
            "nickname": pseudonym(p.id, p.nickname),
            "guesses": p.guesses,
            "correct": p.correct,
            "accuracy": p.correct / p.guesses if p.guesses else None,
            "best_streak": p.best_streak,
            "score": p.score,
        }
        for p in players
    ]


def leaderboards(session: Session) -> dict:
    """Players by score and models by fool rate: /api/leaderboard and the leaderboard page."""
    return {"players": leaderboard(session), "models": compute_stats(session)["fool_leaderboard"]}
