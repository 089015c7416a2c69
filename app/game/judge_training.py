"""Training and measuring the machine judge (app/game/judge.py): pairs of a real excerpt and the
fake our model writes to face it with the game's recipe; the judge learns from the training
plays and is measured on the validation plays, by model and by difficulty, and at hard as the
pool serves it (its pick of several candidates). `realornn train judge` runs train_judge;
benchmarks/tells.py cross-validates a fresh judge on served rounds.
"""

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from app.corpus import Corpus, ExcerptError, Split, sample_excerpt, sha256_text
from app.game.judge import KIND, Judge, JudgeConfig, featurize, fit_logistic
from app.game.pool import EXCERPT_LENGTHS, write_facing
from app.game.rules import PoolKey, difficulty_of
from app.lm.base import ModelInfo
from app.lm.constraints import Lexicon

if TYPE_CHECKING:
    from app.game.registry import LoadedModel


# -- training: real excerpts of the training plays against our fakes facing them ---------------
@dataclass(frozen=True)
class Example:
    model: str
    temperature: float
    difficulty: str
    real: str
    generated: str


def pair_accuracy(judge_scores: Callable[[list[str]], np.ndarray], examples: Sequence[Example]):
    """The fraction of examples whose real text the judge scores above its fake."""
    if not examples:
        return None
    real = judge_scores([e.real for e in examples])
    fake = judge_scores([e.generated for e in examples])
    return float(np.mean(real > fake))


def accuracy_table(
    judge_scores: Callable[[list[str]], np.ndarray], examples: Sequence[Example]
) -> dict[str, Any]:
    """Held-out pair accuracy overall, by difficulty and by model: the judge's metadata."""
    real = judge_scores([e.real for e in examples])
    fake = judge_scores([e.generated for e in examples])
    right = real > fake

    def by(key: Callable[[Example], str]) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[bool]] = {}
        for example, correct in zip(examples, right, strict=True):
            groups.setdefault(key(example), []).append(bool(correct))
        return {
            name: {"pairs": len(v), "accuracy": round(sum(v) / len(v), 4)}
            for name, v in sorted(groups.items())
        }

    return {
        "pairs": len(examples),
        "accuracy": round(float(right.mean()), 4) if len(examples) else None,
        "by_difficulty": by(lambda e: e.difficulty),
        "by_model": by(lambda e: e.model),
        "by_key": by(lambda e: f"{e.model}@{e.temperature}"),
    }


def grouped_folds(n_groups: int, folds: int, seed: int = 0) -> list[np.ndarray]:
    """Group ids split into `folds` disjoint sets (a pair's two texts stay together)."""
    order = np.random.default_rng(seed).permutation(n_groups)
    return [order[i::folds] for i in range(folds)]


def cross_validated_pair_accuracy(
    examples: Sequence[Example], config: JudgeConfig, folds: int = 5, seed: int = 0
) -> tuple[float, list[bool]]:
    """A fresh judge of this config trained and tested fold by fold on `examples`, grouped by
    pair; the overall pair accuracy and each example's verdict (True: real scored higher)."""
    texts = [t for e in examples for t in (e.real, e.generated)]
    labels = np.array([1, 0] * len(examples))
    hashed, dense = featurize(texts, config)
    verdicts = [False] * len(examples)
    for held in grouped_folds(len(examples), folds, seed):
        held_set = set(held.tolist())
        train = [i for i in range(len(examples)) if i not in held_set]
        rows = np.array([r for i in train for r in (2 * i, 2 * i + 1)])
        mean = dense[rows].mean(axis=0)
        scale = dense[rows].std(axis=0) + 1e-6
        design = np.concatenate([hashed, ((dense - mean) / scale).astype(np.float32)], axis=1)
        weights, bias = fit_logistic(design[rows], labels[rows], config.l2)
        scores = design @ weights + bias
        for i in held.tolist():
            verdicts[i] = bool(scores[2 * i] > scores[2 * i + 1])
    return sum(verdicts) / max(len(verdicts), 1), verdicts


def collect_examples(
    models: Mapping[str, "LoadedModel"],
    corpus: Corpus,
    keys: Sequence[PoolKey],
    *,
    split: Split,
    per_key: int,
    seed: int,
    lexicon: Lexicon | None,
    judge: Judge | None = None,
    candidates: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[Example]:
    """Up to `per_key` pairs per pool key: a real excerpt of `split` and the fake the game writes
    to face it for that key (app/game/pool.py write_facing). Without a judge each fake is the
    first candidate, as written: the judge learns from those. With one, the hard keys are its
    pick of `candidates`, as the pool serves them: its accuracy on those is the hard level's."""
    examples = []
    for key in keys:
        loaded = models[key.model]
        difficulty = difficulty_of(loaded.info.kind, key.temperature)
        made = 0
        for n in range(per_key * 3):  # an excerpt that no seed fits is skipped
            if made == per_key:
                break
            example_seed = seed + 1000 * n
            rng = random.Random(example_seed)
            try:
                excerpt = sample_excerpt(corpus, rng.choice(EXCERPT_LENGTHS), example_seed, split)
            except ExcerptError:
                continue
            facing = write_facing(
                loaded,
                key,
                excerpt,
                corpus,
                seed=example_seed,
                lexicon=lexicon,
                judge=judge,
                candidates=candidates,
            )
            if facing is None:
                continue
            examples.append(
                Example(key.model, key.temperature, difficulty, excerpt.text, facing.text)
            )
            made += 1
        if progress is not None:
            progress(f"{key.model} at {key.temperature}: {made} pairs from the {split} plays")
    return examples


L2_GRID = (1e-4, 1e-3, 1e-2)


@dataclass(frozen=True)
class JudgeTraining:
    """How `realornn train judge` builds the judge."""

    per_key: int = 200  # training pairs per pool key (training plays)
    val_per_key: int = 50  # held-out pairs per pool key (validation plays)
    candidates: int = 8  # best-of-N at hard, for the held-out figure of the hard level
    seed: int = 0
    config: JudgeConfig = field(default_factory=JudgeConfig)


def choose_l2(examples: Sequence[Example], config: JudgeConfig, seed: int) -> float:
    """The L2 penalty of L2_GRID with the best grouped 3-fold pair accuracy on `examples`."""
    best, best_accuracy = config.l2, -1.0
    for l2 in L2_GRID:
        accuracy, _ = cross_validated_pair_accuracy(
            examples, JudgeConfig(**{**asdict(config), "l2": l2}), folds=3, seed=seed
        )
        if accuracy > best_accuracy:
            best, best_accuracy = l2, accuracy
    return best


def train_judge(
    models: Mapping[str, "LoadedModel"],
    corpus: Corpus,
    keys: Sequence[PoolKey],
    training: JudgeTraining,
    lexicon: Lexicon | None,
    progress: Callable[[str], None] = lambda line: None,
) -> "Judge":
    """The judge of these models: trained on pairs from the training plays, measured on pairs
    from the validation plays, by model and by difficulty, and at hard as the pool writes it."""
    started = time.perf_counter()
    train = collect_examples(
        models,
        corpus,
        keys,
        split="train",
        per_key=training.per_key,
        seed=training.seed,
        lexicon=lexicon,
        progress=progress,
    )
    held_out = collect_examples(
        models,
        corpus,
        keys,
        split="val",
        per_key=training.val_per_key,
        seed=training.seed + 7,
        lexicon=lexicon,
        progress=progress,
    )
    if not train or not held_out:
        raise ValueError("no pairs could be written: are the models in the game loaded?")
    l2 = choose_l2(train, training.config, training.seed)
    progress(f"L2 penalty {l2:g} (grouped 3-fold cross-validation on the training pairs)")
    config = JudgeConfig(**{**asdict(training.config), "l2": l2})
    texts = [t for e in train for t in (e.real, e.generated)]
    judge = Judge.train(texts, [1, 0] * len(train), config)
    figures = {"held_out": accuracy_table(judge.scores, held_out)}
    hard_keys = [
        k for k in keys if difficulty_of(models[k.model].info.kind, k.temperature) == "hard"
    ]
    if hard_keys and training.candidates > 1:
        progress(f"hard: writing best-of-{training.candidates} held-out pairs")
        picked = collect_examples(
            models,
            corpus,
            hard_keys,
            split="val",
            per_key=training.val_per_key,
            seed=training.seed + 7,
            lexicon=lexicon,
            judge=judge,
            candidates=training.candidates,
        )
        figures["hard_best_of"] = accuracy_table(judge.scores, picked) | {
            "candidates": training.candidates
        }
    figures["by_difficulty"] = difficulty_figures(figures)
    judge.info = ModelInfo(
        name="judge",
        kind=KIND,
        unit="passage",
        parameters=asdict(config),
        corpus=corpus.name,
        corpus_sha256=sha256_text(corpus.text("train")),
        figures=figures,
        training={
            "seconds": round(time.perf_counter() - started, 1),
            "train_pairs": len(train),
            "held_out_pairs": len(held_out),
            "per_key": training.per_key,
            "val_per_key": training.val_per_key,
            "seed": training.seed,
            "against": {k.model: models[k.model].sha256 for k in keys},
        },
    )
    return judge


def difficulty_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """The judge's held-out pair accuracy per difficulty as the game serves it (hard: its pick of
    the candidates): the measure that orders the levels."""
    levels = dict(figures["held_out"]["by_difficulty"])
    best_of = figures.get("hard_best_of")
    if best_of and best_of.get("pairs"):
        levels["hard"] = {"pairs": best_of["pairs"], "accuracy": best_of["accuracy"]}
    return levels
