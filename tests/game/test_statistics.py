"""Wilson intervals and tallies."""

import pytest

from app.game import length_bucket, saw_generated, tally, wilson_interval


def test_wilson_matches_published_values():
    # Newcombe (1998), and the classic 0-of-n case where p +- 1.96 se collapses to [0, 0]
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(5, 5) == pytest.approx((0.5655, 1.0), abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_a_tally_groups_by_key_with_accuracy_and_fool_rate():
    rows = tally([("a", True), ("b", False), ("a", False), ("a", True)])
    assert [r["key"] for r in rows] == ["a", "b"]
    a = rows[0]
    assert (a["guesses"], a["correct"], a["fooled"]) == (3, 2, 1)
    assert a["accuracy"] == pytest.approx(2 / 3) and a["fool_rate"] == pytest.approx(1 / 3)
    assert a["ci_low"] < a["accuracy"] < a["ci_high"]


def test_lengths_fall_in_buckets():
    assert [length_bucket(n) for n in (100, 300, 499, 500, 5000)] == [
        "under 300",
        "300-499",
        "300-499",
        "500 and over",
        "500 and over",
    ]


def test_a_guess_saw_the_model_in_every_pair_round_and_in_single_rounds_that_showed_it():
    assert saw_generated("pair", "0", True) and saw_generated("pair", "1", False)
    assert saw_generated("single", "generated", True)  # shown the model's text, rightly so called
    assert saw_generated("single", "real", False)  # shown the model's text, fooled
    assert not saw_generated("single", "real", True)  # shown the real excerpt
    assert not saw_generated("single", "generated", False)  # shown the real excerpt, doubted it
