"""The machine judge: a classifier that tells real Shakespeare from our generated passages.

It reads what a player reads, the spoken lines (speaker headings are the same on both sides of a
round by construction, so they are left out), and sees three kinds of features:

    character 1-4-grams     hashed into CHAR_BUCKETS counts, log(1 + count), L2-normalised
    word 1-2-grams          lower-cased, hashed into WORD_BUCKETS counts, the same
    style figures           word and line lengths, punctuation, repetition (DENSE_NAMES),
                            standardised with the training set's mean and spread

and weighs them with an L2-regularised logistic regression, trained only on the training plays:
real excerpts from them against fakes our models write, with the game's recipe, to face those
excerpts (app/game/passages.py). Its held-out figures are measured the same way on the
validation plays; the test plays, where the game's excerpts come from, it never sees.

    judge.scores(texts) -> (N,) logits, higher = more real
    pair_probability(a, b) -> p(the judge calls a the real one) = sigmoid(score(a) - score(b))

The pool asks it at hard to keep the most real-looking of several candidates (adversarial
filtering, as SWAG and HellaSwag built their sets), and every passage stores the judge's score of
both texts so the reveal and the statistics can set the machine beside the players.
"""

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.corpus import WORD, speeches_of
from app.lm.base import ModelInfo
from app.lm.checkpoint_file import CheckpointError, read_arrays, read_header, save_checkpoint

KIND = "judge"
LEVEL_ORDER = ("easy", "medium", "hard")  # app.game.rules.DIFFICULTIES less "mixed"
CHAR_ORDERS = (1, 2, 3, 4)
CHAR_BUCKETS = 2**15
WORD_BUCKETS = 2**13
DENSE_NAMES = (
    "mean_word_length",
    "word_length_spread",
    "type_token_ratio",
    "commas_per_word",
    "stops_per_word",
    "marks_per_word",  # ! ? ; :
    "dashes_per_word",
    "apostrophes_per_word",
    "capitalised_inside_line",
    "mean_line_length",
    "line_length_spread",
    "repeated_bigrams",
    "words_per_sentence",
)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads the rolling hash's bits


@dataclass(frozen=True)
class JudgeConfig:
    char_orders: tuple[int, ...] = CHAR_ORDERS
    char_buckets: int = CHAR_BUCKETS
    word_buckets: int = WORD_BUCKETS  # 0: no word features
    dense: bool = True
    l2: float = 1e-3  # the penalty on the weights, per example

    @property
    def width(self) -> int:
        return self.char_buckets + self.word_buckets + (len(DENSE_NAMES) if self.dense else 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JudgeConfig":
        return cls(**{**data, "char_orders": tuple(data["char_orders"])})


def spoken_text(passage: str) -> str:
    """The lines a player reads for their words: the speeches without their headings."""
    return "\n\n".join("\n".join(lines) for _, lines in speeches_of(passage))


def _normalised(counts: np.ndarray) -> np.ndarray:
    values = np.log1p(counts)
    norm = math.sqrt(float(values @ values))
    return values / norm if norm else values


def char_ngram_counts(text: str, orders: Iterable[int], buckets: int) -> np.ndarray:
    """Counts of the text's character n-grams, hashed into `buckets`. (buckets,)"""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    counts = np.zeros(buckets)
    for n in orders:
        if len(codes) < n:
            continue
        # a rolling polynomial hash of each n-gram, with n mixed in so orders do not collide;
        # uint64 arithmetic wraps, which is what a hash wants
        h = np.full(len(codes) - n + 1, np.uint64(n))
        for j in range(n):
            h = h * np.uint64(1_000_003) + codes[j : len(codes) - n + 1 + j]
        counts += np.bincount(((h * _MIX) >> np.uint64(40)) % np.uint64(buckets), minlength=buckets)
    return counts


def word_ngram_counts(words: Sequence[str], buckets: int) -> np.ndarray:
    """Counts of the lower-cased words and word pairs, hashed into `buckets`. (buckets,)"""
    lowered = [w.lower() for w in words]
    grams = lowered + [f"{a} {b}" for a, b in zip(lowered, lowered[1:], strict=False)]
    ids = [zlib.crc32(g.encode()) % buckets for g in grams]
    return np.bincount(np.array(ids, dtype=np.int64), minlength=buckets).astype(np.float64)


def style_figures(body: str, words: Sequence[str]) -> np.ndarray:
    """The DENSE_NAMES figures of a passage's spoken text. (len(DENSE_NAMES),)"""
    lines = [line for line in body.split("\n") if line]
    n_words = max(len(words), 1)
    lengths = np.array([len(w) for w in words] or [0], dtype=np.float64)
    line_lengths = np.array([len(line) for line in lines] or [0], dtype=np.float64)
    lowered = [w.lower() for w in words]
    bigrams = list(zip(lowered, lowered[1:], strict=False))
    inside = sum(
        1
        for line in lines
        for w in WORD.findall(line)[1:]
        if w[:1].isupper() and w not in ("I", "O")
    )
    sentences = max(sum(body.count(mark) for mark in ".!?"), 1)
    return np.array(
        [
            lengths.mean(),
            lengths.std(),
            len(set(lowered)) / n_words,
            body.count(",") / n_words,
            body.count(".") / n_words,
            sum(body.count(mark) for mark in "!?;:") / n_words,
            body.count("-") / n_words,
            body.count("'") / n_words,
            inside / n_words,
            line_lengths.mean(),
            line_lengths.std(),
            (len(bigrams) - len(set(bigrams))) / max(len(bigrams), 1),
            n_words / sentences,
        ]
    )


def featurize(texts: Sequence[str], config: JudgeConfig) -> tuple[np.ndarray, np.ndarray]:
    """(sparse-ish hashed features (N, char + word buckets), style figures (N, dense)), float32."""
    hashed = np.zeros((len(texts), config.char_buckets + config.word_buckets), dtype=np.float32)
    dense = np.zeros((len(texts), len(DENSE_NAMES) if config.dense else 0), dtype=np.float32)
    for i, text in enumerate(texts):
        body = spoken_text(text)
        words = WORD.findall(body)
        hashed[i, : config.char_buckets] = _normalised(
            char_ngram_counts(body, config.char_orders, config.char_buckets)
        )
        if config.word_buckets:
            hashed[i, config.char_buckets :] = _normalised(
                word_ngram_counts(words, config.word_buckets)
            )
        if config.dense:
            dense[i] = style_figures(body, words)
    return hashed, dense


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, l2: float, iterations: int = 200
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by L-BFGS (full batch): weights (D,) and bias.
    features: (N, D), labels: (N,) 1 for real, 0 for generated."""
    import torch  # the server scores with numpy; only training needs torch

    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.float32)
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [w, b], lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe"
    )

    def loss_fn():
        optimizer.zero_grad()
        logits = x @ w + b  # (N,)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        loss = loss + l2 * (w @ w)
        loss.backward()
        return loss

    optimizer.step(loss_fn)
    return w.detach().numpy().astype(np.float32), float(b.item())


@dataclass
class Judge:
    config: JudgeConfig
    weights: np.ndarray  # (config.width,)
    bias: float
    dense_mean: np.ndarray  # (len(DENSE_NAMES),) of the training set
    dense_scale: np.ndarray  # (len(DENSE_NAMES),)
    info: ModelInfo = field(default_factory=lambda: ModelInfo("judge", KIND, "passage", {}, "", ""))

    @property
    def name(self) -> str:
        return self.info.name

    def describe(self) -> dict[str, Any]:
        """Its held-out figures for the How page: the pair accuracy that orders the levels
        (hard: its pick of the candidates, as the game serves it) and by model."""
        figures = self.info.figures or {}
        held_out = figures.get("held_out") or {}
        levels = figures.get("by_difficulty") or held_out.get("by_difficulty") or {}
        by_difficulty = [
            {"key": level, **levels[level]} for level in LEVEL_ORDER if level in levels
        ]
        accuracies = [row["accuracy"] for row in by_difficulty]
        return {
            "name": self.name,
            "pairs": held_out.get("pairs"),
            "accuracy": held_out.get("accuracy"),
            "by_difficulty": by_difficulty,
            "by_model": [
                {"key": model, **row} for model, row in sorted(held_out.get("by_model", {}).items())
            ],
            "candidates": (figures.get("hard_best_of") or {}).get("candidates"),
            "train_pairs": (self.info.training or {}).get("train_pairs"),
            # easy is the most tellable and hard the least, as measured
            "levels_ordered": len(accuracies) > 1
            and all(a > b for a, b in zip(accuracies, accuracies[1:], strict=False)),
        }

    def design(self, texts: Sequence[str]) -> np.ndarray:
        """The judge's inputs for these texts. (N, width)"""
        hashed, dense = featurize(texts, self.config)
        if self.config.dense:
            dense = (dense - self.dense_mean) / self.dense_scale
        return np.concatenate([hashed, dense.astype(np.float32)], axis=1)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """How real each text looks: the logit of p(real). (N,)"""
        if not texts:
            return np.zeros(0)
        return self.design(texts) @ self.weights + self.bias

    def score(self, text: str) -> float:
        return float(self.scores([text])[0])

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[int],
        config: JudgeConfig,
        info: ModelInfo | None = None,
    ) -> "Judge":
        hashed, dense = featurize(texts, config)
        mean = dense.mean(axis=0) if config.dense else np.zeros(0, dtype=np.float32)
        scale = dense.std(axis=0) + 1e-6 if config.dense else np.zeros(0, dtype=np.float32)
        standardised = (dense - mean) / scale if config.dense else dense
        design = np.concatenate([hashed, standardised.astype(np.float32)], axis=1)
        weights, bias = fit_logistic(design, np.asarray(labels), config.l2)
        judge = cls(config, weights, bias, mean.astype(np.float32), scale.astype(np.float32))
        if info is not None:
            judge.info = info
        return judge

    # -- the checkpoint ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        self.info.kind, self.info.parameters = KIND, asdict(self.config)
        arrays = {
            "weights": self.weights,
            "bias": np.array([self.bias], dtype=np.float32),
            "dense_mean": self.dense_mean,
            "dense_scale": self.dense_scale,
        }
        return save_checkpoint(path, arrays, self.info, list(DENSE_NAMES))

    @classmethod
    def load(cls, path: str | Path) -> "Judge":
        info, dense_names = read_header(path)
        if info.kind != KIND:
            raise CheckpointError(f"{path}: a {info.kind} checkpoint, not a judge")
        try:
            config = JudgeConfig.from_dict(info.parameters)
            arrays = read_arrays(path)
            judge = cls(
                config,
                arrays["weights"].astype(np.float32),
                float(arrays["bias"][0]),
                arrays["dense_mean"].astype(np.float32),
                arrays["dense_scale"].astype(np.float32),
                info,
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise CheckpointError(f"{path}: corrupt judge ({error})") from None
        if judge.weights.shape != (config.width,) or (
            config.dense and list(dense_names) != list(DENSE_NAMES)
        ):
            raise CheckpointError(f"{path}: a judge of another feature set")
        return judge


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


def pair_probability(score_a: float, score_b: float) -> float:
    """p(the judge calls passage a the real one of the pair a, b)."""
    return sigmoid(score_a - score_b)


def verdict(
    mode: str, layout: Sequence[str], real_score: float | None, generated_score: float | None
) -> dict[str, Any] | None:
    """What the judge said of a round, for the reveal: in pair mode the passage it thought real
    and how sure it was; in single mode whether it thought the one passage real. None when the
    passage was never judged."""
    if real_score is None or generated_score is None:
        return None
    if mode == "pair":
        real_index = list(layout).index("real")
        p_real_first = (
            pair_probability(real_score, generated_score)
            if real_index == 0
            else pair_probability(generated_score, real_score)
        )
        pick = 0 if p_real_first >= 0.5 else 1
        confidence = p_real_first if pick == 0 else 1 - p_real_first
        return {
            "pick": pick,
            "confidence": round(confidence, 3),
            "correct": pick == real_index,
            "says": f"The machine judge thought passage {pick + 1} was real "
            f"({confidence:.0%} sure).",
        }
    shown = layout[0]
    p_real = sigmoid(real_score if shown == "real" else generated_score)
    pick = "real" if p_real >= 0.5 else "generated"
    confidence = p_real if pick == "real" else 1 - p_real
    return {
        "pick": pick,
        "confidence": round(confidence, 3),
        "correct": pick == shown,
        "says": f"The machine judge thought this passage was {pick} ({confidence:.0%} sure).",
    }


def judged_correctly(
    mode: str, layout: Sequence[str], real_score: float | None, generated_score: float | None
) -> bool | None:
    said = verdict(mode, layout, real_score, generated_score)
    return None if said is None else bool(said["correct"])
