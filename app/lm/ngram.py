"""n-gram language models, as in the lecture: count, then roll a weighted die for the next token.

    p(w_1 .. w_T) = prod_t p(w_t | w_{t-n+1} .. w_{t-1})        (chain rule + Markov assumption)

Counting is vectorised with numpy. Every k-gram of the training text gets a dense id, built order by
order: the id of a k-gram is its rank among the keys  (id of its first k-1 tokens) * V + last token.
Sorted, those keys form a trie stored as flat arrays: the children of a context are one contiguous
run, so the distribution after any context is a slice, and scoring a whole text is a few
`searchsorted` calls per order.

Smoothing methods (all but stupid backoff give a proper distribution over the whole vocabulary):
    kn      interpolated modified Kneser-Ney (three discounts per order, continuation counts below
            the top order; Chen & Goodman 1998)
    wb      interpolated Witten-Bell
    addk    add-k (Lidstone) on the top order alone; unseen context -> uniform
    mle     add-k with k = 0: the lecture's maximum-likelihood estimate c(h w) / c(h); gives
            probability 0 to unseen events, so it is for teaching, not scoring
    stupid  stupid backoff (Brants et al. 2007): scores, not probabilities; sampled after
            normalising, never used for scoring
The normalised methods all take the interpolation form
    p_k(w | h) = numerator_k(h w) / denominator_k(h) + gamma_k(h) * p_{k-1}(w | h')
with p_0 uniform over the vocabulary, so one scorer serves them all.
"""

import math
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from app.lm.base import Generator, ModelInfo, Surprisal
from app.lm.checkpoint_file import save_checkpoint
from app.lm.constraints import Constraint, Glue, TokenTable

Unit = Literal["char", "word"]
Smoothing = Literal["kn", "wb", "addk", "mle", "stupid"]
SMOOTHINGS: tuple[str, ...] = ("kn", "wb", "addk", "mle", "stupid")
MAX_ORDER = {"char": 12, "word": 6}
UNKNOWN = "<unk>"
STUPID_BACKOFF_FACTOR = 0.4  # Brants et al.'s alpha
# Every printable ASCII character and the newline are in every char vocabulary, so a text with a
# character the training text lacks still gets a probability above 0.
BASE_CHARACTERS = "\n" + "".join(chr(c) for c in range(32, 127))
# Word tokens keep their leading space, so the token sequence spells the text exactly:
# "ROMEO:\nBut soft" -> ["ROMEO", ":", "\n", "But", " soft"].
WORD_TOKEN = re.compile(r"\n| ?[\w']+| ?[^\w\s]|\s")


class NGramError(ValueError):
    """A bad order, smoothing, text or checkpoint; the message says which."""


@dataclass(frozen=True)
class NGramConfig:
    unit: Unit = "char"
    order: int = 7  # n: the model looks at n-1 previous tokens
    smoothing: Smoothing = "kn"
    add_k: float = 0.01  # the k of add-k smoothing
    min_word_count: int = 2  # rarer words become <unk>, so <unk> gets a realistic probability

    def validated(self) -> "NGramConfig":
        if self.unit not in MAX_ORDER:
            raise NGramError(f"unit must be 'char' or 'word', got {self.unit!r}")
        if not 1 <= self.order <= MAX_ORDER[self.unit]:
            raise NGramError(
                f"order must be between 1 and {MAX_ORDER[self.unit]} for {self.unit} models, "
                f"got {self.order}"
            )
        if self.smoothing not in SMOOTHINGS:
            raise NGramError(
                f"smoothing must be one of {', '.join(SMOOTHINGS)}, got {self.smoothing!r}"
            )
        if self.smoothing == "addk" and not self.add_k > 0:
            raise NGramError(f"add-k needs k > 0, got {self.add_k} (use smoothing 'mle' for k = 0)")
        if self.min_word_count < 1:
            raise NGramError(f"min_word_count must be at least 1, got {self.min_word_count}")
        return self


def split_tokens(text: str, unit: Unit) -> list[str]:
    """Characters, or words and punctuation with their leading space; ''.join(tokens) == text."""
    return list(text) if unit == "char" else WORD_TOKEN.findall(text)


@dataclass
class NGramCounts:
    """The counted trie, exactly what a checkpoint stores (see the module docstring).

    For order k (1..n), arrays over the distinct k-grams, sorted by (context id, token):
        tokens[k-1]        last token of each k-gram
        children[k-1]      for each (k-1)-gram context: how many k-grams extend it
        continuation[k-1]  Kneser-Ney: how many distinct tokens precede the k-gram (k < n only)
    top_counts: the count of each n-gram. Lower-order counts are sums over children, plus one for
    the k-grams that end the text (its last n-1 tokens are kept in `tail`).
    """

    tokens: list[np.ndarray]
    children: list[np.ndarray]
    continuation: list[np.ndarray]
    top_counts: np.ndarray
    tail: list[int]


def count_ngrams(
    token_ids: np.ndarray, order: int, vocab_size: int, want_continuation: bool
) -> NGramCounts:
    """Count every k-gram for k = 1..order with sorts instead of Python dicts. token_ids: (T,)"""
    x = np.asarray(token_ids, dtype=np.int64)
    tokens, children, continuation = [], [], []
    previous_ids = np.zeros(len(x), dtype=np.int64)  # id of the empty context at every position
    previous_count = 1  # number of distinct (k-1)-grams
    counts = np.zeros(0, dtype=np.int64)
    for k in range(1, order + 1):
        n_positions = len(x) - k + 1
        if n_positions <= 0:
            raise NGramError(f"the training text has fewer than {order} tokens")
        keys = previous_ids[:n_positions] * vocab_size + x[k - 1 : k - 1 + n_positions]  # (P,)
        sort = np.argsort(keys, kind="stable")
        sorted_keys = keys[sort]
        is_first = np.empty(n_positions, dtype=bool)
        is_first[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=is_first[1:])
        unique_keys = sorted_keys[is_first]
        ids = np.empty(n_positions, dtype=np.int64)
        ids[sort] = np.cumsum(is_first) - 1  # dense id of the k-gram starting at each position
        counts = np.bincount(ids, minlength=len(unique_keys))
        tokens.append(unique_keys % vocab_size)
        children.append(np.bincount(unique_keys // vocab_size, minlength=previous_count))
        if want_continuation and k > 1:
            # The k-gram at position i ends with the (k-1)-gram at i+1: count distinct left
            # extensions of every (k-1)-gram (its continuation count).
            first_positions = sort[is_first]
            suffix_ids = previous_ids[first_positions + 1]
            continuation.append(np.bincount(suffix_ids, minlength=previous_count))
        previous_ids, previous_count = ids, len(unique_keys)
    tail = [int(t) for t in x[len(x) - order + 1 :]] if order > 1 else []
    return NGramCounts(tokens, children, continuation, counts, tail)


class NGramModel(Generator):
    """An n-gram model over characters or words, with one of the smoothing methods above."""

    def __init__(
        self, config: NGramConfig, vocabulary: list[str], counts: NGramCounts, info: ModelInfo
    ):
        self.config = config.validated()
        self.vocabulary = vocabulary
        self.token_index = {token: i for i, token in enumerate(vocabulary)}
        self.unknown_id = self.token_index[UNKNOWN]
        self.never_sampled = [self.unknown_id]
        self.counts = counts
        self.info = info
        self._prepare_tables()
        if config.unit == "word":
            self._spelling_bits = self._character_spelling_costs()

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        text: str,
        config: NGramConfig,
        name: str = "ngram",
        corpus: str = "",
        corpus_sha256: str = "",
    ) -> "NGramModel":
        config = config.validated()
        if not text:
            raise NGramError("cannot train on an empty text")
        started = time.perf_counter()
        tokens = split_tokens(text, config.unit)
        vocabulary = build_vocabulary(tokens, config)
        index = {token: i for i, token in enumerate(vocabulary)}
        unknown_id = index[UNKNOWN]
        token_ids = np.fromiter(
            (index.get(t, unknown_id) for t in tokens), dtype=np.int64, count=len(tokens)
        )
        counts = count_ngrams(token_ids, config.order, len(vocabulary), config.smoothing == "kn")
        info = ModelInfo(
            name=name,
            kind="ngram",
            unit=config.unit,
            parameters=asdict(config) | {"vocabulary_size": len(vocabulary)},
            corpus=corpus,
            corpus_sha256=corpus_sha256,
            training={
                "build_seconds": round(time.perf_counter() - started, 3),
                "train_tokens": len(tokens),
                "train_chars": len(text),
            },
        )
        return cls(config, vocabulary, counts, info)

    def _prepare_tables(self) -> None:
        """Turn counts into the per-order tables the scorer and sampler read.

        For order k: `keys` (context id * V + token, sorted), `child_start` (where each context's
        children begin), and for the normalised methods `numerator` per k-gram, `denominator` and
        `gamma` per context.
        """
        V = len(self.vocabulary)
        c = self.counts
        order = self.config.order
        self.keys, self.child_start = [], []
        raw_counts: list[np.ndarray] = [np.zeros(0)] * order
        raw_counts[order - 1] = c.top_counts.astype(np.float64)
        parents = []
        for k in range(order):
            parent = np.repeat(np.arange(len(c.children[k]), dtype=np.int64), c.children[k])
            parents.append(parent)
            self.keys.append(parent * V + c.tokens[k].astype(np.int64))
            self.child_start.append(
                np.concatenate([[0], np.cumsum(c.children[k])]).astype(np.int64)
            )
        for k in range(
            order - 2, -1, -1
        ):  # lower-order counts: sum of children, plus the text's end
            raw = np.bincount(parents[k + 1], weights=raw_counts[k + 1], minlength=len(c.tokens[k]))
            tail_ids = self._ids_of(c.tail[len(c.tail) - k - 1 :]) if c.tail else []
            if len(tail_ids) == k + 1 and tail_ids[-1] >= 0:
                raw[tail_ids[-1]] += 1
            raw_counts[k] = raw
        self.raw_counts = raw_counts
        self.numerator, self.denominator, self.gamma = [], [], []
        smoothing = self.config.smoothing
        for k in range(order):
            n_contexts = len(c.children[k])
            if smoothing == "kn":
                a = raw_counts[k] if k == order - 1 else c.continuation[k].astype(np.float64)
                d1, d2, d3 = kneser_ney_discounts(a)
                discount = np.where(a == 1, d1, np.where(a == 2, d2, d3)) * (a > 0)
                numerator = a - discount
                denominator = np.bincount(parents[k], weights=a, minlength=n_contexts)
                left_over = np.bincount(parents[k], weights=discount, minlength=n_contexts)
            elif smoothing == "wb":
                numerator = raw_counts[k]
                types = c.children[k].astype(np.float64)
                denominator = (
                    np.bincount(parents[k], weights=numerator, minlength=n_contexts) + types
                )
                left_over = types
            else:  # addk, mle (the longest available order decides), stupid (scores)
                k_add = self.config.add_k if smoothing == "addk" else 0.0
                numerator = raw_counts[k] + k_add
                denominator = (
                    np.bincount(parents[k], weights=raw_counts[k], minlength=n_contexts) + k_add * V
                )
                left_over = np.zeros(n_contexts)
            with np.errstate(divide="ignore", invalid="ignore"):
                gamma = np.where(denominator > 0, left_over / denominator, 1.0)
            self.numerator.append(numerator)
            self.denominator.append(denominator)
            self.gamma.append(gamma)

    def _ids_of(self, token_ids: list[int]) -> list[int]:
        """Trie ids of the prefixes of a token sequence: [id(w1), id(w1 w2), ...], -1 if unseen."""
        ids, node = [], 0
        for k, token in enumerate(token_ids):
            if node < 0:
                ids.append(-1)
                continue
            key = node * len(self.vocabulary) + token
            pos = int(np.searchsorted(self.keys[k], key))
            node = pos if pos < len(self.keys[k]) and self.keys[k][pos] == key else -1
            ids.append(node)
        return ids

    # -- scoring ---------------------------------------------------------------------------------
    def encode(self, text: str) -> tuple[list[str], np.ndarray]:
        tokens = split_tokens(text, self.config.unit)
        ids = np.fromiter(
            (self.token_index.get(t, self.unknown_id) for t in tokens),
            dtype=np.int64,
            count=len(tokens),
        )
        return tokens, ids

    def tokenize(self, text: str) -> tuple[list[str], np.ndarray]:
        return self.encode(text)

    def format_constraint(self, table: TokenTable) -> Constraint | None:
        # Word tokens carry their leading space, line-initial ones have none: without the glue
        # a backed-off model writes "homePitchers" mid-line and " soft" at a line's start.
        return Glue(table) if self.config.unit == "word" else None

    def _gram_ids(self, x: np.ndarray) -> list[np.ndarray]:
        """grams[k][i]: trie id of the (k+1)-gram starting at position i, -1 if unseen. x: (T,)"""
        V = len(self.vocabulary)
        grams, previous = [], np.zeros(len(x), dtype=np.int64)
        for k in range(self.config.order - 1):  # contexts are at most n-1 tokens long
            n = len(x) - k
            if n <= 0:
                break
            keys = previous[:n] * V + x[k : k + n]
            found = _lookup(self.keys[k], keys)
            found[previous[:n] < 0] = -1
            grams.append(found)
            previous = found
        return grams

    def token_probabilities(self, x: np.ndarray) -> np.ndarray:
        """p(x_t | up to n-1 previous tokens) for every position, vectorised over t. (T,) -> (T,)"""
        if self.config.smoothing == "stupid":
            raise NGramError(
                "stupid backoff gives scores, not probabilities: it is not used for scoring"
            )
        T, V = len(x), len(self.vocabulary)
        grams = self._gram_ids(x)
        p = np.full(T, 1.0 / V)
        chained = self.config.smoothing in ("kn", "wb")
        positions = np.arange(T)
        for k in range(self.config.order):  # k = context length; this is order k+1
            if k == 0:
                context = np.zeros(T, dtype=np.int64)
            else:
                start = positions - k
                context = np.full(T, -1, dtype=np.int64)
                ok = start >= 0
                if ok.any():  # a text shorter than k tokens has no k-gram ids at all
                    context[ok] = grams[k - 1][start[ok]]
            available = positions >= k  # a context of length k exists before position t
            seen = context >= 0
            seen[seen] = self.denominator[k][context[seen]] > 0
            child = np.full(T, -1, dtype=np.int64)
            child[seen] = _lookup(self.keys[k], context[seen] * V + x[seen])
            numerator = np.where(child >= 0, self.numerator[k][np.maximum(child, 0)], 0.0)
            if not chained and self.config.smoothing == "addk":
                numerator = np.where(seen & (child < 0), self.config.add_k, numerator)
            safe_context = np.maximum(context, 0)
            value = numerator / np.where(seen, self.denominator[k][safe_context], 1.0)
            lower = p if chained else np.full(T, 1.0 / V)
            value = value + np.where(seen, self.gamma[k][safe_context], 1.0) * lower
            if chained:
                p = np.where(seen, value, p)
            else:  # add-k/MLE: the longest available context decides; unseen -> uniform
                p = np.where(available, np.where(seen, value, 1.0 / V), p)
        return p

    def surprisal(self, text: str) -> Surprisal:
        if not text:
            raise NGramError("cannot score an empty text")
        tokens, ids = self.encode(text)
        with np.errstate(divide="ignore"):
            bits = -np.log2(self.token_probabilities(ids))
        if self.config.unit == "word":
            # An unknown word costs p(<unk>) times spelling it out, so word and char models compare
            # fairly in bits per character.
            for i in np.flatnonzero(ids == self.unknown_id):
                bits[i] += sum(
                    self._spelling_bits.get(ch, self._spelling_bits[UNKNOWN]) for ch in tokens[i]
                )
        return Surprisal(tokens, bits)

    def _character_spelling_costs(self) -> dict[str, float]:
        """-log2 p(char) under an add-one character unigram of the vocabulary's spellings."""
        counts: dict[str, int] = {ch: 1 for ch in BASE_CHARACTERS}
        for token in self.vocabulary:
            if token != UNKNOWN:
                for ch in token:
                    counts[ch] = counts.get(ch, 1) + 1
        total = sum(counts.values()) + 1
        costs = {ch: -math.log2(n / total) for ch, n in counts.items()}
        costs[UNKNOWN] = -math.log2(1 / total)
        return costs

    # -- the weighted die --------------------------------------------------------------------------
    def distribution(self, context_ids: list[int]) -> np.ndarray:
        """p(next token | context): the whole die, from the last n-1 tokens. (V,)"""
        V, order = len(self.vocabulary), self.config.order
        history = list(context_ids[max(0, len(context_ids) - (order - 1)) :]) if order > 1 else []
        # ids of the contexts of length 0..len(history) that end the history
        smoothing = self.config.smoothing
        if smoothing == "stupid":
            p = self.raw_counts[0] / self.raw_counts[0].sum()
            p = np.bincount(self.keys[0] % V, weights=p, minlength=V)
        else:
            p = np.full(V, 1.0 / V)
        for k in range(0 if smoothing != "stupid" else 1, order):
            if k > len(history):
                break
            node = 0 if k == 0 else self._ids_of(history[len(history) - k :])[-1]
            if node < 0 or self.denominator[k][node] <= 0:
                if smoothing in ("addk", "mle"):
                    p = np.full(V, 1.0 / V)
                continue
            lo, hi = self.child_start[k][node], self.child_start[k][node + 1]
            tokens = self.keys[k][lo:hi] % V
            if smoothing == "stupid":
                scores = STUPID_BACKOFF_FACTOR * p
                scores[tokens] = self.raw_counts[k][lo:hi] / self.denominator[k][node]
                p = scores
                continue
            value = np.zeros(V)
            if smoothing == "addk":
                value[:] = self.config.add_k / self.denominator[k][node]
            value[tokens] = self.numerator[k][lo:hi] / self.denominator[k][node]
            lower = p if smoothing in ("kn", "wb") else np.full(V, 1.0 / V)
            p = value + self.gamma[k][node] * lower
        if smoothing == "stupid":
            p = p / p.sum()  # scores -> a die we can roll
        return p

    def begin(self, prime: str, count: int) -> list[list[int]]:
        _, ids = self.encode(prime)
        return [list(ids) for _ in range(count)]

    def next_probabilities(self, state: list[list[int]]) -> np.ndarray:
        return np.stack([self.distribution(history) for history in state])

    def advance(self, state: list[list[int]], token_ids: np.ndarray) -> list[list[int]]:
        keep = self.config.order - 1
        return [
            (history + [int(t)])[-keep:] if keep else []
            for history, t in zip(state, token_ids, strict=True)
        ]

    def next_token_distribution(self, context: str) -> dict[str, float]:
        """p(next token | context text) as {token: probability}, for teaching and tests."""
        _, ids = self.encode(context)
        p = self.distribution(list(ids))
        return {self.vocabulary[i]: float(p[i]) for i in np.flatnonzero(p)}


def kneser_ney_discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified KN's three discounts from the count-of-counts n1..n4 (Chen & Goodman, eq. 26)."""
    n1, n2, n3, n4 = (float(np.count_nonzero(counts == i)) for i in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:  # tiny corpora: the estimate is undefined, use common values
        return 0.5, 1.0, 1.5
    y = n1 / (n1 + 2 * n2)
    d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
    # each discount must stay within its count so no probability goes below 0
    return (
        float(np.clip(d1, 0.01, 1.0)),
        float(np.clip(d2, 0.01, 2.0)),
        float(np.clip(d3, 0.01, 3.0)),
    )


def build_vocabulary(tokens: list[str], config: NGramConfig) -> list[str]:
    """<unk> first, then the base characters (char models) or the words seen often enough."""
    if config.unit == "char":
        return [UNKNOWN] + sorted(set(BASE_CHARACTERS) | set(tokens))
    distinct, counts = np.unique(np.array(tokens, dtype=object), return_counts=True)
    kept = sorted(
        str(t) for t, n in zip(distinct, counts, strict=True) if n >= config.min_word_count
    )
    return [UNKNOWN] + [t for t in kept if t != UNKNOWN]


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each key in a sorted array, -1 where absent."""
    pos = np.searchsorted(sorted_keys, keys)
    pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
    return np.where((pos < len(sorted_keys)) & (sorted_keys[pos_clipped] == keys), pos_clipped, -1)


def load_ngram_from_arrays(
    arrays: dict[str, np.ndarray], info: ModelInfo, vocabulary: list[str]
) -> NGramModel:
    """Rebuild a model from a checkpoint's arrays (see app/lm/checkpoints.py)."""
    p = info.parameters
    config = NGramConfig(
        unit=info.unit,
        order=int(p["order"]),
        smoothing=p["smoothing"],
        add_k=float(p["add_k"]),
        min_word_count=int(p["min_word_count"]),
    )  # type: ignore[arg-type]
    order = config.order
    try:
        counts = NGramCounts(
            tokens=[arrays[f"order{k}.tokens"] for k in range(1, order + 1)],
            children=[arrays[f"order{k}.children"].astype(np.int64) for k in range(1, order + 1)],
            continuation=[arrays[f"order{k}.continuation"] for k in range(1, order)]
            if config.smoothing == "kn"
            else [],
            top_counts=arrays["top_counts"].astype(np.int64),
            tail=[int(t) for t in arrays["tail"]],
        )
    except KeyError as missing:
        raise NGramError(f"checkpoint lacks the array {missing}") from None
    return NGramModel(config, vocabulary, counts, info)


def arrays_of(model: NGramModel) -> dict[str, np.ndarray]:
    """The arrays a checkpoint stores, each in the narrowest unsigned type that holds it."""
    c = model.counts
    arrays = {"top_counts": _narrow(c.top_counts), "tail": np.array(c.tail, dtype=np.int64)}
    for k in range(1, model.config.order + 1):
        arrays[f"order{k}.tokens"] = _narrow(c.tokens[k - 1])
        arrays[f"order{k}.children"] = _narrow(c.children[k - 1])
        if model.config.smoothing == "kn" and k < model.config.order:
            arrays[f"order{k}.continuation"] = _narrow(c.continuation[k - 1])
    return arrays


def _narrow(values: np.ndarray) -> np.ndarray:
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.int64)


def save_ngram(model: NGramModel, out: str | Path) -> Path:
    """Write the model's checkpoint (".safetensors" is added to `out` when missing)."""
    return save_checkpoint(out, arrays_of(model), model.info, model.vocabulary)
