"""Generated passages that face a real excerpt: on its scaffold, under the lexicon, after the scene
before it, best of N by a judge, copy-checked, and regenerated from the stored recipe."""

import json
from types import SimpleNamespace

import pytest

from app.corpus import context_before, sample_excerpt, speeches_of, spoken_words
from app.game import LENGTH_TOLERANCE, make_facing_passage, prime_for, regenerate, whole_lines
from app.game.passages import CONTEXT_LENGTH, Recipe, Writing, copies, cut_near, fits, tidy
from app.lm.constraints import Lexicon, shape_of, training_lexicon
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


# -- the scaffold, the lexicon, the scene before, best-of-N ----------------------------------------
def structure(text: str) -> list[tuple[str, int]]:
    return [(speaker, len(lines)) for speaker, lines in speeches_of(text)]


@pytest.fixture(scope="module")
def lexicon(plays_corpus) -> Lexicon:
    return training_lexicon(plays_corpus)


def test_a_facing_passage_has_its_excerpts_speakers_and_lines(plays_corpus, small_model):
    for seed in (3, 9, 14):
        excerpt = sample_excerpt(plays_corpus, 450, seed=seed)
        facing = make_facing_passage(
            small_model, excerpt, temperature=0.9, seed=seed, copied_length=lambda text: 0
        )
        assert facing is not None
        assert structure(facing.text) == structure(excerpt.text)
        assert facing.recipe.scaffold == shape_of(speeches_of(excerpt.text))


def test_a_fakes_lines_are_as_long_as_the_real_ones_neither_shorter_nor_longer(
    plays_corpus, small_model, lexicon
):
    """Line length is no tell: over many fakes their lines are neither shorter nor longer than
    the real lines they stand for, more often than chance allows."""
    shorter, differences = 0, []
    for seed in range(40):
        excerpt = sample_excerpt(plays_corpus, 400, seed=seed)
        facing = make_facing_passage(
            small_model, excerpt, temperature=0.8, seed=seed, copied_length=lambda text: 0,
            writing=Writing(lexicon=True), lexicon=lexicon,
        )  # fmt: skip
        assert facing is not None

        def mean_line(text: str) -> float:
            lines = [len(line) for _, speech in speeches_of(text) for line in speech]
            return sum(lines) / len(lines)

        difference = mean_line(facing.text) - mean_line(excerpt.text)
        differences.append(difference)
        shorter += difference < 0
    assert abs(sum(differences) / len(differences)) < 1.0  # characters per line
    assert 10 <= shorter <= 30  # of 40: a binomial(40, 1/2) falls outside 1 time in 500


def test_under_the_lexicon_every_spoken_word_is_a_word_of_the_training_plays(
    plays_corpus, small_model, lexicon
):
    unknown_without = 0
    for seed in range(4):
        excerpt = sample_excerpt(plays_corpus, 450, seed=seed)
        texts = {}
        for on in (True, False):
            facing = make_facing_passage(
                small_model,
                excerpt,
                temperature=1.0,
                seed=seed,
                copied_length=lambda text: 0,
                writing=Writing(lexicon=on),
                lexicon=lexicon,
            )
            assert facing is not None and facing.recipe.lexicon is on
            texts[on] = facing.text
        assert all(word in lexicon for word in spoken_words(texts[True]))
        unknown_without += sum(word not in lexicon for word in spoken_words(texts[False]))
    assert unknown_without > 0  # a 5-gram of 300,000 characters does invent words


def test_a_stored_recipe_regenerates_its_passage_with_the_lexicon(
    plays_corpus, small_model, lexicon
):
    excerpt = sample_excerpt(plays_corpus, 350, seed=2)
    context = context_before(plays_corpus, excerpt, CONTEXT_LENGTH)
    facing = make_facing_passage(
        small_model,
        excerpt,
        temperature=0.8,
        seed=11,
        copied_length=lambda text: 0,
        writing=Writing(lexicon=True),
        lexicon=lexicon,
        context=context,
    )
    assert facing is not None and facing.recipe.prime == context
    recipe = facing.recipe
    row = SimpleNamespace(  # what the passages table keeps of it
        temperature=recipe.temperature,
        top_k=recipe.top_k,
        top_p=recipe.top_p,
        seed=recipe.seed,
        prime=recipe.prime,
        requested_length=recipe.requested_length,
        real_text=excerpt.text,
        constraints=json.loads(json.dumps(recipe.constraints())),
    )
    assert Recipe.of_stored(row) == recipe
    assert regenerate(small_model, Recipe.of_stored(row), lexicon) == facing.text
    with pytest.raises(ValueError, match="lexicon"):
        regenerate(small_model, recipe, None)


def test_the_scene_before_is_read_first_but_never_copied(plays_corpus, small_model):
    excerpt = sample_excerpt(plays_corpus, 350, seed=4)
    context = context_before(plays_corpus, excerpt, CONTEXT_LENGTH)
    assert context and excerpt.text not in context
    facing = make_facing_passage(
        small_model,
        excerpt,
        temperature=0.9,
        seed=4,
        copied_length=lambda text: 0,
        context=context,
    )
    assert facing is not None and not copies(facing.text, context)
    assert copies(context[100:160], context) and not copies("x" * 60, context)


def test_at_best_of_n_the_judge_keeps_the_candidate_it_finds_most_real(plays_corpus, small_model):
    excerpt = sample_excerpt(plays_corpus, 400, seed=6)
    judged = []

    def judge(texts):
        scores = [-text.count("e") for text in texts]  # a judge that hates the letter e
        judged.extend(zip(texts, scores, strict=True))
        return scores

    facing = make_facing_passage(
        small_model,
        excerpt,
        temperature=1.0,
        seed=6,
        copied_length=lambda text: 0,
        writing=Writing(candidates=6),
        judge=judge,
    )
    assert facing is not None and facing.recipe.candidates == 6
    assert len(judged) >= 2 and len({text for text, _ in judged}) == len(judged)
    assert facing.text == max(judged, key=lambda pair: pair[1])[0]
    assert regenerate(small_model, facing.recipe) == facing.text  # its own seed remakes it
    alone = make_facing_passage(
        small_model, excerpt, temperature=1.0, seed=6, copied_length=lambda text: 0
    )
    assert alone is not None and alone.recipe.candidates == 1


def test_candidates_are_bounded():
    with pytest.raises(ValueError, match="candidates"):
        Writing(candidates=0)
    with pytest.raises(ValueError, match="candidates"):
        Writing(candidates=17)


def test_a_fake_with_a_line_that_reads_like_a_heading_does_not_fit():
    scaffold = shape_of(speeches_of("ALL:\nSpeak, speak.\nWe know it.\n"))
    real_length = 31
    assert fits("ALL:\nGood night, sir.\nWe know it.\n", scaffold, real_length)
    assert not fits("ALL:\nCELIA: away.\nWe know it.\n", scaffold, real_length)
    assert not fits("ALL:\nGood night, sir, know it.\n", scaffold, real_length)  # a line short
    assert not fits("ALL:\nGood night, sir, good night.\nWe know it.\n", scaffold, real_length)
