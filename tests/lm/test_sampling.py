"""app/lm/sampling.py: temperature, top-k and top-p shaping, the weighted die, parameter checks."""

import math

import numpy as np
import pytest

from app.lm.ngram import NGramConfig, NGramModel
from app.lm.sampling import (
    MAX_COUNT,
    MAX_LENGTH,
    SamplingError,
    SamplingParams,
    draw_seed,
    roll_die,
    shape_distribution,
)

DIE = np.array([[0.05, 0.4, 0.1, 0.25, 0.2]])


def random_distributions(seed: int, rows: int = 20, size: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(size, 0.5), size=rows)
    weights[:, rng.integers(0, size, 5)] = 0.0  # some impossible tokens
    return weights / weights.sum(axis=1, keepdims=True)


def entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=-1)


# -- temperature -----------------------------------------------------------------------------------
def test_temperature_one_without_top_k_or_top_p_leaves_the_die_alone() -> None:
    probs = random_distributions(1)
    np.testing.assert_allclose(shape_distribution(probs, 1.0, None, None), probs, rtol=1e-12)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 0.9, 1.1, 2.0, 10.0])
def test_temperature_raises_probabilities_to_the_power_one_over_t(temperature: float) -> None:
    probs = random_distributions(2)
    shaped = shape_distribution(probs, temperature, None, None)
    expected = probs ** (1 / temperature)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shaped, expected, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(shaped.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(shaped[probs == 0] == 0)  # an impossible token stays impossible


def test_low_temperature_sharpens_and_high_temperature_flattens() -> None:
    probs = random_distributions(3)
    temperatures = [0.25, 0.5, 1.0, 1.5, 3.0]
    shaped = [shape_distribution(probs, t, None, None) for t in temperatures]
    entropies = np.stack([entropy(s) for s in shaped])
    top = np.stack([s.max(axis=1) for s in shaped])
    assert np.all(np.diff(entropies, axis=0) > 0)  # hotter -> more uncertain
    assert np.all(np.diff(top, axis=0) < 0)  # hotter -> the favourite loses mass
    # the order of the tokens never changes
    for s in shaped:
        assert np.array_equal(np.argmax(s, axis=1), np.argmax(probs, axis=1))


def test_very_low_temperature_is_nearly_greedy_and_very_high_is_nearly_uniform() -> None:
    cold = shape_distribution(DIE, 0.01, None, None)
    assert cold[0, 1] > 1 - 1e-12
    hot = shape_distribution(DIE, 1e6, None, None)
    np.testing.assert_allclose(hot, np.full_like(DIE, 0.2), rtol=1e-5)


# -- top-k -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 7, 29])
def test_top_k_keeps_exactly_the_k_most_likely_tokens(k: int) -> None:
    rng = np.random.default_rng(k)
    probs = rng.dirichlet(np.ones(30), size=10)  # continuous: no ties
    shaped = shape_distribution(probs, 1.0, k, None)
    for row, original in zip(shaped, probs, strict=True):
        kept = set(np.flatnonzero(row).tolist())
        assert kept == set(np.argsort(-original)[:k].tolist())
        np.testing.assert_allclose(
            row[list(kept)], original[list(kept)] / original[list(kept)].sum()
        )
    np.testing.assert_allclose(shaped.sum(axis=1), 1.0)


def test_top_k_at_or_above_the_vocabulary_keeps_everything() -> None:
    for k in (5, 6, 1000):
        np.testing.assert_allclose(shape_distribution(DIE, 1.0, k, None), DIE)


def test_top_k_keeps_every_token_tied_with_the_kth() -> None:
    probs = np.array([[0.4, 0.2, 0.2, 0.2]])
    shaped = shape_distribution(probs, 1.0, 2, None)
    assert np.count_nonzero(shaped) == 4  # no arbitrary choice among equals
    np.testing.assert_allclose(shaped, probs)


# -- top-p -----------------------------------------------------------------------------------------
def minimal_prefix(probs: np.ndarray, p: float) -> set[int]:
    """Brute force: the fewest most-likely tokens whose mass reaches p."""
    order = np.argsort(-probs, kind="stable")
    total = 0.0
    for count, token in enumerate(order, 1):
        total += probs[token]
        if total >= p:
            return set(order[:count].tolist())
    return set(order.tolist())


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.5, 0.77, 0.9, 0.99])
def test_top_p_keeps_the_minimal_prefix_whose_mass_reaches_p(top_p: float) -> None:
    probs = random_distributions(int(top_p * 100))
    shaped = shape_distribution(probs, 1.0, None, top_p)
    for row, original in zip(shaped, probs, strict=True):
        kept = set(np.flatnonzero(row).tolist())
        assert kept == minimal_prefix(original, top_p)
        assert int(np.argmax(original)) in kept
        assert original[list(kept)].sum() >= top_p - 1e-12
    np.testing.assert_allclose(shaped.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("top_p", "kept"),
    [(1e-9, 1), (0.5, 1), (0.51, 2), (0.75, 2), (0.76, 3), (0.875, 3), (0.9, 4), (1.0, 4)],
)
def test_top_p_on_an_exact_die(top_p: float, kept: int) -> None:
    probs = np.array([[0.125, 0.5, 0.125, 0.25]])  # sorted: 0.5, 0.25, 0.125, 0.125
    shaped = shape_distribution(probs, 1.0, None, top_p)
    assert np.count_nonzero(shaped) == kept
    assert shaped[0, 1] > 0  # the top token always stays


def test_top_p_always_keeps_the_top_token_even_when_it_alone_is_below_p() -> None:
    probs = np.full((1, 50), 1 / 50)
    probs[0, 17] += 0.001
    probs /= probs.sum()
    shaped = shape_distribution(probs, 1.0, None, 1e-6)
    assert np.flatnonzero(shaped).tolist() == [17]
    assert shaped[0, 17] == 1.0


def test_temperature_top_k_and_top_p_combine_row_by_row() -> None:
    probs = random_distributions(9, rows=6)
    shaped = shape_distribution(probs, 0.7, 10, 0.8)
    for i in range(len(probs)):
        alone = shape_distribution(probs[i : i + 1], 0.7, 10, 0.8)
        np.testing.assert_allclose(shaped[i : i + 1], alone)
        assert 1 <= np.count_nonzero(alone) <= 10
    np.testing.assert_allclose(shaped.sum(axis=1), 1.0)


# -- the weighted die ------------------------------------------------------------------------------
def test_roll_die_follows_the_probabilities() -> None:
    draws = 20_000
    rng = np.random.default_rng(1234)
    probs = np.repeat(DIE, draws, axis=0)
    # one generator per row, as in a batch; all seeded from one fixed generator
    rngs = [np.random.default_rng(int(s)) for s in rng.integers(0, 2**31, draws)]
    choices = roll_die(probs, rngs)
    observed = np.bincount(choices, minlength=DIE.shape[1])
    expected = DIE[0] * draws
    chi_square = float(((observed - expected) ** 2 / expected).sum())
    assert chi_square < 18.5  # 4 degrees of freedom: p ~ 0.001


def test_roll_die_with_one_generator_follows_the_probabilities_over_many_rolls() -> None:
    rng = np.random.default_rng(7)
    counts = np.zeros(5, dtype=int)
    for _ in range(5000):
        counts[roll_die(DIE, [rng])[0]] += 1
    expected = DIE[0] * 5000
    assert float(((counts - expected) ** 2 / expected).sum()) < 18.5


def test_roll_die_never_picks_an_impossible_token() -> None:
    probs = np.array([[0.0, 0.5, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0], [1.0, 0, 0, 0, 0]])
    for seed in range(300):
        rngs = [np.random.default_rng(seed + i) for i in range(3)]
        a, b, c = roll_die(probs, rngs)
        assert a in (1, 3) and b == 4 and c == 0


def test_roll_die_accepts_unnormalised_weights() -> None:
    weights = DIE * 37.0
    for seed in range(50):
        assert (
            roll_die(weights, [np.random.default_rng(seed)])[0]
            == roll_die(DIE, [np.random.default_rng(seed)])[0]
        )


def test_roll_die_is_deterministic_and_each_row_uses_its_own_generator() -> None:
    probs = random_distributions(5, rows=8)
    batch = roll_die(probs, [np.random.default_rng(100 + i) for i in range(8)])
    again = roll_die(probs, [np.random.default_rng(100 + i) for i in range(8)])
    alone = [roll_die(probs[i : i + 1], [np.random.default_rng(100 + i)])[0] for i in range(8)]
    assert batch.tolist() == again.tolist() == alone
    assert batch.shape == (8,)


class FixedUniforms:
    """A stand-in generator whose random() returns the given numbers in turn."""

    def __init__(self, *values: float):
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_one_passage_rolls_the_same_token_as_a_batch_row_even_on_the_boundaries() -> None:
    """One row takes a binary search (the common case, a single stream), a batch counts the
    cumulative sums <= u; both pick the token whose interval [F(i-1), F(i)) holds u."""
    probs = np.array([[0.0, 0.25, 0.0, 0.5, 0.25, 0.0]])
    cumulative = np.cumsum(probs[0])  # 0, .25, .25, .75, 1, 1
    # random() is in [0, 1): every u up to just below 1, the cumulative sums themselves too
    for u in [0.0, 0.1, 0.25, 0.3, 0.75, 0.9, 1 - 2**-53, *cumulative[cumulative < 1]]:
        alone = roll_die(probs, [FixedUniforms(u)])[0]
        batch = roll_die(np.repeat(probs, 2, axis=0), [FixedUniforms(u), FixedUniforms(0.5)])[0]
        assert alone == batch == min(int((cumulative <= u).sum()), 5)
        assert probs[0, alone] > 0  # never an impossible token, even at u = F(i) exactly
    for seed in range(200):
        row = random_distributions(seed, rows=1)
        u = np.random.default_rng(seed).random()
        expected = int((np.cumsum(row[0]) <= u * np.cumsum(row[0])[-1]).sum())
        assert roll_die(row, [FixedUniforms(u)])[0] == expected


# -- parameters ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (SamplingParams(length=0), "length must be between 1 and 20000, got 0"),
        (SamplingParams(length=-5), "length must be between 1 and 20000, got -5"),
        (SamplingParams(length=MAX_LENGTH + 1), "length must be between 1 and 20000, got 20001"),
        (SamplingParams(temperature=0), "temperature must be above 0, got 0"),
        (SamplingParams(temperature=-1.0), "temperature must be above 0, got -1.0"),
        (SamplingParams(temperature=math.nan), "temperature must be above 0, got nan"),
        (SamplingParams(temperature=math.inf), "temperature must be above 0, got inf"),
        (SamplingParams(top_k=0), "top_k must be at least 1, got 0"),
        (SamplingParams(top_k=-3), "top_k must be at least 1, got -3"),
        (SamplingParams(top_p=0.0), r"top_p must be in \(0, 1\], got 0.0"),
        (SamplingParams(top_p=1.5), r"top_p must be in \(0, 1\], got 1.5"),
        (SamplingParams(top_p=-0.1), r"top_p must be in \(0, 1\], got -0.1"),
        (SamplingParams(seed=-1), r"seed must be between 0 and 2\*\*63-1, got -1"),
        (SamplingParams(seed=2**63), r"seed must be between 0 and 2\*\*63-1"),
    ],
)
def test_bad_sampling_parameters_are_rejected_with_a_message_naming_them(
    params: SamplingParams, message: str
) -> None:
    with pytest.raises(SamplingError, match=message):
        params.validated()


@pytest.mark.parametrize(
    "params",
    [
        SamplingParams(),
        SamplingParams(length=1, temperature=1e-6, top_k=1, top_p=1.0, seed=0),
        SamplingParams(length=MAX_LENGTH, temperature=100.0, top_p=1e-9, seed=2**63 - 1),
    ],
)
def test_parameters_at_the_edges_of_their_ranges_are_accepted(params: SamplingParams) -> None:
    assert params.validated() is params


def test_sampling_error_is_a_value_error() -> None:
    assert issubclass(SamplingError, ValueError)


def test_drawn_seeds_are_valid_and_vary() -> None:
    seeds = {draw_seed() for _ in range(20)}
    assert len(seeds) > 1
    for seed in seeds:
        assert isinstance(seed, int)
        SamplingParams(seed=seed).validated()


def test_models_check_parameters_and_the_batch_size_before_sampling() -> None:
    model = NGramModel.train("to be or not to be, that is the question", NGramConfig(order=2))
    with pytest.raises(SamplingError, match="temperature"):
        model.sample(SamplingParams(temperature=0))
    with pytest.raises(SamplingError, match="temperature"):
        next(model.stream(SamplingParams(temperature=-1)))
    for count in (0, MAX_COUNT + 1):
        with pytest.raises(SamplingError, match=f"count must be between 1 and {MAX_COUNT}"):
            model.sample(SamplingParams(length=5, seed=1), count=count)
    assert len(model.sample(SamplingParams(length=3, seed=1), count=MAX_COUNT)) == MAX_COUNT


def test_a_passage_without_a_seed_reports_the_seed_that_regenerates_it() -> None:
    model = NGramModel.train("to be or not to be, that is the question", NGramConfig(order=2))
    passage = model.sample(SamplingParams(length=50))[0]
    again = model.sample(SamplingParams(length=50, seed=passage.seed))[0]
    assert again.text == passage.text
