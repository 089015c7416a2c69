"""app/lm/ngram.py: counting, the smoothing methods, scoring and the weighted die, on tiny texts."""

import math
import random
from collections import Counter

import numpy as np
import pytest

from app.lm.ngram import (
    MAX_ORDER,
    UNKNOWN,
    NGramConfig,
    NGramError,
    NGramModel,
    split_tokens,
)
from app.lm.sampling import SamplingParams

TEXT = """FIRST CITIZEN:
Before we proceed any further, hear me speak.

ALL:
Speak, speak.

FIRST CITIZEN:
You are all resolved rather to die than to famish?

ALL:
Resolved. resolved.

FIRST CITIZEN:
First, you know Caius Marcius is chief enemy to the people.

ALL:
We know't, we know't.

FIRST CITIZEN:
Let us kill him, and we'll have corn at our own price.
Is't a verdict?

ALL:
No more talking on't; let it be done: away, away!

SECOND CITIZEN:
One word, good citizens.

FIRST CITIZEN:
We are accounted poor citizens, the patricians good.
What authority surfeits on would relieve us: if they
would yield us but the superfluity, while it were
wholesome, we might guess they relieved us humanely;
but they think we are too dear: the leanness that
afflicts us, the object of our misery, is as an
inventory to particularise their abundance; our
sufferance is a gain to them Let us revenge this with
our pikes, ere we become rakes: for the gods know I
speak this in hunger for bread, not in thirst for revenge.
"""

NORMALISED = ("kn", "wb", "addk", "mle")
ORDERS = [("char", 1), ("char", 2), ("char", 3), ("char", 5)]
ORDERS += [("word", 1), ("word", 2), ("word", 3)]
# Texts a model has never seen: characters outside the training text (and outside ASCII), words
# it never met, and a context longer than any it counted.
UNSEEN_TEXTS = [
    "Zounds! ~é~ quoth Zebedee",
    "xyzzy qwerty",
    "é",
    "FIRST CITIZEN:\nWe are accounted poor citizens, the patricians good. Zany!",
]

_model_cache: dict[tuple, NGramModel] = {}


def model(unit: str, order: int, smoothing: str = "kn", text: str = TEXT, **config) -> NGramModel:
    """A model of the tiny text, built once per configuration for the whole module."""
    key = (unit, order, smoothing, text, tuple(sorted(config.items())))
    if key not in _model_cache:
        _model_cache[key] = NGramModel.train(
            text, NGramConfig(unit=unit, order=order, smoothing=smoothing, **config)
        )
    return _model_cache[key]


def contexts_of(m: NGramModel) -> list[list[int]]:
    """Seen, unseen, empty, unknown-token and over-long contexts, as token id lists."""
    texts = ["", "F", "FIRST CITIZEN:\n", "ALL:\nSpeak", "speak this in hunger for"]
    texts += ["Zq~", "qqqq", "é", "xyzzy plugh", "we know't, we"] + UNSEEN_TEXTS
    texts.append(TEXT[:200])  # far longer than n-1 tokens
    contexts = [list(m.encode(t)[1]) for t in texts]
    contexts.append([m.unknown_id])
    contexts.append([m.unknown_id] * 7)
    rng = random.Random(len(m.vocabulary))
    contexts += [[rng.randrange(len(m.vocabulary)) for _ in range(n)] for n in range(1, 8)]
    return contexts


def brute_force_kgram_counts(ids: list[int], k: int) -> Counter:
    return Counter(tuple(ids[i : i + k]) for i in range(len(ids) - k + 1))


def trie_kgrams(m: NGramModel) -> list[list[tuple[int, ...]]]:
    """grams[k][i]: the (k+1)-gram whose trie id is i, rebuilt from the keys."""
    V = len(m.vocabulary)
    grams: list[list[tuple[int, ...]]] = []
    for k, keys in enumerate(m.keys):
        parents, tokens = keys // V, keys % V
        grams.append(
            [
                (grams[k - 1][int(p)] if k else ()) + (int(t),)
                for p, t in zip(parents, tokens, strict=True)
            ]
        )
    return grams


# -- the lecture's example -----------------------------------------------------------------------
def test_mle_trigram_gives_the_lectures_relative_frequency() -> None:
    foods = [" corn"] * 4 + [" grass"] * 3 + [" hay"] * 2 + [" oats", " apples"]
    random.Random(0).shuffle(foods)
    text = "".join(f"cows eat{food}.\nsheep eat grass.\n" for food in foods)
    m = NGramModel.train(text, NGramConfig(unit="word", order=3, smoothing="mle", min_word_count=1))
    p = m.next_token_distribution("cows eat")
    assert p[" corn"] == pytest.approx(4 / 11, abs=1e-15)
    assert p == pytest.approx(
        {" corn": 4 / 11, " grass": 3 / 11, " hay": 2 / 11, " oats": 1 / 11, " apples": 1 / 11}
    )


def test_word_tokens_keep_their_leading_space() -> None:
    assert split_tokens("ROMEO:\nBut soft, what light", "word") == [
        "ROMEO",
        ":",
        "\n",
        "But",
        " soft",
        ",",
        " what",
        " light",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words",
        "  two  spaces   three\n\n\nnewlines ",
        "tabs\tand\t\ttabs \t\n\r\n",
        "don't 'tis o'er the ne'er-do-well's 'quoted'",
        'Punctuation!? ... --- ;:,. (brackets) [x] {y} "q"',
        "unicode: café naïve Ærø — ‘curly’ 😀 e\u0301 日本語 \u00a0nbsp",
        "digits 123 4.5 _under_score_",
        "\n",
        " ",
    ],
)
def test_word_tokenisation_is_lossless(text: str) -> None:
    assert "".join(split_tokens(text, "word")) == text
    assert "".join(split_tokens(text, "char")) == text


# -- proper distributions --------------------------------------------------------------------------
@pytest.mark.parametrize("smoothing", NORMALISED)
@pytest.mark.parametrize(("unit", "order"), ORDERS)
def test_every_distribution_sums_to_one_and_is_never_negative(
    unit: str, order: int, smoothing: str
) -> None:
    m = model(unit, order, smoothing)
    for context in contexts_of(m):
        p = m.distribution(context)
        assert p.shape == (len(m.vocabulary),)
        assert abs(p.sum() - 1.0) < 1e-9, (context, p.sum())
        assert p.min() >= 0.0, context


@pytest.mark.parametrize("smoothing", NORMALISED)
@pytest.mark.parametrize(("unit", "order"), ORDERS)
def test_vectorised_scoring_equals_the_die_at_every_position(
    unit: str, order: int, smoothing: str
) -> None:
    m = model(unit, order, smoothing)
    for text in [TEXT[:300], TEXT[-250:], *UNSEEN_TEXTS, "a", "ab", "ALL:"]:
        _, ids = m.encode(text)
        vectorised = m.token_probabilities(ids)
        one_by_one = np.array([m.distribution(list(ids[:t]))[ids[t]] for t in range(len(ids))])
        np.testing.assert_allclose(vectorised, one_by_one, rtol=1e-12, atol=1e-15, err_msg=text)


@pytest.mark.parametrize("smoothing", ("kn", "wb", "addk"))
@pytest.mark.parametrize(("unit", "order"), ORDERS)
def test_smoothed_models_never_give_probability_zero(unit: str, order: int, smoothing: str) -> None:
    m = model(unit, order, smoothing)
    for text in [*UNSEEN_TEXTS, TEXT[:300], "Z", "~", "é"]:
        _, ids = m.encode(text)
        assert m.token_probabilities(ids).min() > 0, text
        bits = m.bits_per_char(text)
        assert math.isfinite(bits) and bits > 0, text


def test_mle_gives_probability_zero_to_an_unseen_continuation() -> None:
    m = model("char", 3, "mle")
    assert m.bits_per_char("FIRST CITIZEN:\n") < 5
    assert m.bits_per_char("FIZ") == math.inf


@pytest.mark.parametrize("smoothing", NORMALISED)
def test_texts_shorter_than_the_context_are_scored(smoothing: str) -> None:
    m = model("char", 5, smoothing)
    for text in ["F", "FI", "FIR", "FIRS", "FIRST"]:
        _, ids = m.encode(text)
        expected = [m.distribution(list(ids[:t]))[ids[t]] for t in range(len(ids))]
        np.testing.assert_allclose(m.token_probabilities(ids), expected, rtol=1e-12)
        assert math.isfinite(m.bits_per_char(text))
    assert math.isfinite(model("word", 3, smoothing).bits_per_char("ALL"))


def test_an_unknown_word_costs_more_than_a_known_one() -> None:
    m = model("word", 2, "kn")
    assert m.surprisal(" citizens").total_bits < m.surprisal(" citizenz").total_bits


def test_surprisal_tokens_spell_the_text() -> None:
    for unit in ("char", "word"):
        m = model(unit, 3, "kn")
        s = m.surprisal(UNSEEN_TEXTS[0])
        assert "".join(s.tokens) == UNSEEN_TEXTS[0]
        assert s.bits.shape == (len(s.tokens),)
        assert s.per_char().shape == (len(UNSEEN_TEXTS[0]),)
        assert s.per_char().sum() == pytest.approx(s.total_bits)


def test_scoring_an_empty_text_is_an_error() -> None:
    with pytest.raises(NGramError, match="empty"):
        model("char", 3).surprisal("")


# -- stupid backoff ------------------------------------------------------------------------------
def test_stupid_backoff_refuses_to_score_but_samples() -> None:
    m = model("char", 4, "stupid")
    with pytest.raises(NGramError, match="stupid backoff"):
        m.bits_per_char("FIRST CITIZEN:\n")
    with pytest.raises(NGramError, match="stupid backoff"):
        m.surprisal("FIRST")
    for context in contexts_of(m):
        p = m.distribution(context)
        assert abs(p.sum() - 1) < 1e-9 and p.min() >= 0
    passage = m.sample(SamplingParams(length=120, seed=5, prime="ALL:\n"))[0]
    assert passage.text.startswith("ALL:\n") and len(passage.text) == 125


# -- counting --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_trie_counts_match_brute_force_counts_of_every_kgram(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab c\n"[: 2 + seed % 4]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 400)))
    order = 1 + seed % 5
    m = NGramModel.train(text, NGramConfig(unit="char", order=order, smoothing="kn"))
    ids = list(m.encode(text)[1])
    grams = trie_kgrams(m)
    for k in range(order):
        expected = brute_force_kgram_counts(ids, k + 1)
        assert np.all(np.diff(m.keys[k]) > 0)  # strictly sorted: a trie, each k-gram once
        counted = dict(zip(grams[k], m.raw_counts[k].tolist(), strict=True))
        assert counted == expected, (text, k + 1)
    assert dict(zip(grams[-1], m.counts.top_counts.tolist(), strict=True)) == dict(
        brute_force_kgram_counts(ids, order)
    )


@pytest.mark.parametrize("seed", range(6))
def test_kneser_ney_continuation_counts_are_distinct_left_extensions(seed: int) -> None:
    rng = random.Random(100 + seed)
    alphabet = "abc d"[: 2 + seed % 4]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(10, 300)))
    order = 2 + seed % 4
    m = NGramModel.train(text, NGramConfig(unit="char", order=order, smoothing="kn"))
    ids = list(m.encode(text)[1])
    grams = trie_kgrams(m)
    assert len(m.counts.continuation) == order - 1
    for k in range(order - 1):  # continuation[k] counts left extensions of each (k+1)-gram
        extended = brute_force_kgram_counts(ids, k + 2)
        expected = Counter(gram[1:] for gram in extended)
        got = dict(zip(grams[k], m.counts.continuation[k].tolist(), strict=True))
        assert got == {gram: expected.get(gram, 0) for gram in grams[k]}, (text, k)


def test_word_counts_match_brute_force_counts() -> None:
    text = "the cat sat on the mat, the cat ate. the dog sat on the cat!\n" * 3 + "the end"
    m = NGramModel.train(text, NGramConfig(unit="word", order=3, smoothing="wb", min_word_count=1))
    ids = list(m.encode(text)[1])
    assert UNKNOWN not in [m.vocabulary[i] for i in ids]
    grams = trie_kgrams(m)
    for k in range(3):
        counted = dict(zip(grams[k], m.raw_counts[k].tolist(), strict=True))
        assert counted == brute_force_kgram_counts(ids, k + 1)


def test_rare_words_become_unknown() -> None:
    m = model("word", 2, "kn")  # min_word_count=2
    assert m.vocabulary[0] == UNKNOWN
    assert " superfluity" not in m.token_index  # seen once
    assert " citizens" in m.token_index
    assert m.distribution(list(m.encode("the")[1]))[m.unknown_id] > 0


# -- sampling --------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["char", "word"])
def test_the_same_seed_gives_the_same_text_and_different_seeds_differ(unit: str) -> None:
    m = model(unit, 3, "kn")
    params = SamplingParams(length=200, seed=11, prime="ALL:\n")
    first = m.sample(params)[0]
    assert first.seed == 11
    assert m.sample(params)[0].text == first.text
    other = m.sample(SamplingParams(length=200, seed=12, prime="ALL:\n"))[0]
    assert other.text != first.text


@pytest.mark.parametrize("unit", ["char", "word"])
@pytest.mark.parametrize("prime", ["", "ALL:\n", "Zé unseen prime "])
def test_passages_start_with_the_prime_and_have_exactly_length_characters_after_it(
    unit: str, prime: str
) -> None:
    m = model(unit, 3, "wb")
    for length in (1, 2, 7, 150):
        passages = m.sample(SamplingParams(length=length, seed=length, prime=prime), count=3)
        assert len(passages) == 3
        for passage in passages:
            assert passage.prime == prime
            assert passage.text.startswith(prime)
            assert len(passage.text) == len(prime) + length


@pytest.mark.parametrize("unit", ["char", "word"])
def test_passage_i_of_a_batch_equals_a_lone_passage_with_seed_plus_i(unit: str) -> None:
    m = model(unit, 3, "kn")
    params = SamplingParams(length=90, seed=40, prime="FIRST CITIZEN:\n", temperature=1.3)
    batch = m.sample(params, count=5)
    assert [p.seed for p in batch] == [40, 41, 42, 43, 44]
    for i, passage in enumerate(batch):
        alone = m.sample(
            SamplingParams(length=90, seed=40 + i, prime="FIRST CITIZEN:\n", temperature=1.3)
        )[0]
        assert passage.text == alone.text
    assert len({p.text for p in batch}) > 1


def greedy_path(m: NGramModel, prime: str, length: int) -> str:
    history, pieces, produced = list(m.encode(prime)[1]), [prime], 0
    while produced < length:
        p = m.distribution(history)
        p[m.never_sampled] = 0
        best = int(np.argmax(p))
        assert np.count_nonzero(p == p[best]) == 1, "a tie: greedy is not unique here"
        piece = m.vocabulary[best][: length - produced]
        pieces.append(piece)
        produced += len(piece)
        history.append(best)
    return "".join(pieces)


@pytest.fixture(scope="module")
def real_word_model(plays_corpus) -> NGramModel:
    """A word trigram of a 30k-char slice of real text: enough counts that the argmax is unique."""
    return NGramModel.train(plays_corpus.text("val")[:30_000], NGramConfig(unit="word", order=3))


@pytest.mark.parametrize("unit", ["char", "word"])
def test_top_k_one_is_the_greedy_argmax_path_for_any_seed(unit: str, request) -> None:
    m = model("char", 3, "kn") if unit == "char" else request.getfixturevalue("real_word_model")
    prime = "FIRST CITIZEN:\n"
    expected = greedy_path(m, prime, 120)
    for seed in (0, 1, 99):
        greedy = m.sample(SamplingParams(length=120, top_k=1, seed=seed, prime=prime))[0].text
        assert greedy == expected
    # a near-zero temperature sharpens the die to the same path
    cold = m.sample(SamplingParams(length=120, temperature=1e-3, seed=3, prime=prime))[0].text
    assert cold == expected


def test_temperature_controls_how_surprising_samples_are() -> None:
    m = model("char", 3, "kn")

    def bits(temperature: float) -> float:
        passages = m.sample(SamplingParams(length=600, temperature=temperature, seed=8), count=4)
        return float(np.mean([m.bits_per_char(p.text) for p in passages]))

    cold, normal, hot = bits(0.5), bits(1.0), bits(2.0)
    assert cold < normal < hot


def test_top_p_and_top_k_restrict_the_die() -> None:
    m = model("char", 2, "wb")
    text = m.sample(SamplingParams(length=400, top_k=3, seed=2, prime="A"))[0].text
    history = list(m.encode("A")[1])
    for ch in text[1:]:
        p = m.distribution(history)
        p[m.never_sampled] = 0
        token = m.token_index[ch]
        assert p[token] >= np.sort(p)[-3], (ch, history)
        history = [token]


@pytest.mark.parametrize("unit", ["char", "word"])
def test_stream_pieces_join_to_the_sampled_text(unit: str) -> None:
    m = model(unit, 3, "kn")
    params = SamplingParams(length=150, seed=21, prime="ALL:\n", top_p=0.9)
    pieces = list(m.stream(params))
    assert pieces[0] == "ALL:\n"
    assert "".join(pieces) == m.sample(params)[0].text


@pytest.mark.parametrize("unit", ["char", "word"])
def test_the_unknown_token_is_never_emitted(unit: str) -> None:
    m = model(unit, 2, "kn", min_word_count=2)
    unk_mass = m.distribution(list(m.encode(" the")[1]))[m.unknown_id]
    assert unk_mass > 0  # the die has mass on <unk>; the sampler must still never roll it
    for passage in m.sample(SamplingParams(length=3000, temperature=3.0, seed=1), count=2):
        assert UNKNOWN not in passage.text


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "message"),
    [
        (NGramConfig(order=0), "order must be between 1 and 12 for char models, got 0"),
        (NGramConfig(order=MAX_ORDER["char"] + 1), "order must be between 1 and 12"),
        (NGramConfig(unit="word", order=7), "order must be between 1 and 6 for word models"),
        (NGramConfig(unit="word", order=-1), "got -1"),
        (NGramConfig(smoothing="laplace"), "smoothing must be one of kn, wb, addk, mle, stupid"),
        (NGramConfig(smoothing="addk", add_k=0), "add-k needs k > 0, got 0"),
        (NGramConfig(smoothing="addk", add_k=-0.5), "add-k needs k > 0, got -0.5"),
        (NGramConfig(unit="byte"), "unit must be 'char' or 'word'"),
        (NGramConfig(unit="word", order=3, min_word_count=0), "min_word_count must be at least 1"),
    ],
)
def test_bad_configurations_are_rejected_with_a_message_naming_the_problem(
    config: NGramConfig, message: str
) -> None:
    with pytest.raises(NGramError, match=message.replace("(", r"\(")):
        NGramModel.train(TEXT, config)


def test_an_empty_training_text_is_rejected() -> None:
    with pytest.raises(NGramError, match="empty text"):
        NGramModel.train("", NGramConfig(order=3))


def test_a_training_text_shorter_than_the_order_is_rejected() -> None:
    with pytest.raises(NGramError, match="fewer than 5 tokens"):
        NGramModel.train("abc", NGramConfig(order=5))
    NGramModel.train("abcde", NGramConfig(order=5))  # exactly n tokens is enough


# -- smoothing quality ---------------------------------------------------------------------------
def test_kneser_ney_beats_add_k_on_held_out_text(plays_corpus) -> None:
    text = plays_corpus.text("val")
    train, held_out = text[:30_000], text[30_000:36_000]
    bits = {
        smoothing: NGramModel.train(train, NGramConfig(order=4, smoothing=smoothing)).bits_per_char(
            held_out
        )
        for smoothing in ("kn", "wb", "addk")
    }
    assert bits["kn"] < bits["addk"]
    assert bits["kn"] < bits["wb"]
    assert 1.5 < bits["kn"] < 3.5
