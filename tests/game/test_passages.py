"""Generated passages that face a real excerpt: cut, tidied, primed and copy-checked."""

import pytest

from app.corpus import sample_excerpt
from app.game import LENGTH_TOLERANCE, make_facing_passage, prime_for, regenerate, whole_lines
from app.game.passages import cut_near, tidy
from app.lm.ngram import NGramConfig, NGramModel


@pytest.fixture(scope="module")
def small_model(plays_corpus):
    text = plays_corpus.text("train")[:300_000]
    return NGramModel.train(text, NGramConfig(unit="char", order=5, smoothing="kn"), name="t5")


def test_tidy_strips_trailing_spaces_and_extra_blank_lines():
    assert tidy("A:  \nline one \n\n\n\nB:\nx\n") == "A:\nline one\n\nB:\nx\n"


def test_whole_lines_drops_a_cut_line_and_a_dangling_heading():
    assert whole_lines("A:\nfull line\nhalf li") == "A:\nfull line\n"
    assert whole_lines("A:\nfull line\n\nB:\n") == "A:\nfull line\n"
    assert whole_lines("A:\n") == ""


def test_cut_near_picks_the_closest_clean_line_end_within_tolerance():
    text = "A:\n" + "".join(f"line {i:03d}\n" for i in range(50))  # 9 chars a line
    cut = cut_near(text, 100)
    assert cut is not None and cut.endswith("\n")
    assert abs(len(cut) - 100) <= 5  # the nearest line end to 100
    assert cut_near("A:\n" + "x" * 500 + "\n", 100) is None  # no line end in range


def test_a_cut_never_ends_on_a_speaker_heading():
    text = "A:\n" + "a" * 95 + "\n\nB:\n" + "b" * 40 + "\n"
    cut = cut_near(text, 104, tolerance=0.10)
    assert cut is not None and not cut.rstrip("\n").endswith("B:")


def test_the_prime_is_the_excerpts_speaker_heading(plays_corpus):
    excerpt = sample_excerpt(plays_corpus, 300, seed=3)
    assert prime_for(excerpt.text) == excerpt.text.split("\n")[0] + "\n"
    assert prime_for(excerpt.text).rstrip(":\n") in excerpt.speakers


def test_a_facing_passage_matches_its_excerpt_and_regenerates(plays_corpus, small_model):
    excerpt = sample_excerpt(plays_corpus, 400, seed=9)
    facing = make_facing_passage(
        small_model, excerpt, temperature=0.9, seed=5, copied_length=lambda text: 0
    )
    assert facing is not None
    assert facing.text.startswith(prime_for(excerpt.text))
    assert abs(len(facing.text) - len(excerpt.text)) <= LENGTH_TOLERANCE * len(excerpt.text)
    assert facing.text.endswith("\n") and not facing.text.endswith("\n\n")
    assert regenerate(small_model, facing.recipe) == facing.text


def test_a_passage_that_copies_forty_characters_is_rejected(plays_corpus, small_model):
    excerpt = sample_excerpt(plays_corpus, 400, seed=9)
    seen = []

    def copies_everything(text: str) -> int:
        seen.append(text)
        return 40

    assert (
        make_facing_passage(
            small_model,
            excerpt,
            temperature=0.9,
            seed=5,
            copied_length=copies_everything,
            attempts=6,
        )
        is None
    )
    assert 1 <= len(seen) <= 6  # every passage that could be cut was checked and refused


def test_the_copy_check_moves_on_to_the_next_seed(plays_corpus, small_model):
    excerpt = sample_excerpt(plays_corpus, 400, seed=9)
    verdicts, checked = iter([45, 12]), []

    def first_copies(text: str) -> int:
        checked.append(text)
        return next(verdicts)

    facing = make_facing_passage(
        small_model, excerpt, temperature=0.9, seed=5, copied_length=first_copies
    )
    assert facing is not None and facing.longest_copied_span == 12
    assert checked == [checked[0], facing.text] and checked[0] != facing.text
    assert facing.recipe.seed > 5
