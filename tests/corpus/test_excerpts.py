"""app/corpus/excerpts.py: real excerpts of whole consecutive speeches, seeded, near a length."""

import pytest

from app.corpus import (
    TEST_PLAYS,
    VALIDATION_PLAYS,
    ExcerptError,
    PlaysCorpus,
    RealExcerpt,
    parse_play,
    render_speech,
    sample_excerpt,
)
from app.corpus.excerpts import LENGTH_TOLERANCE, MAX_EXCERPT_LENGTH, MIN_EXCERPT_LENGTH

LENGTHS = [40, 80, 150, 300, 600, 1200, 2500, 5000]
SEEDS = range(6)


def speeches_of(corpus: PlaysCorpus, excerpt: RealExcerpt):
    """The speeches an excerpt claims to be: its scene's speeches within its line range."""
    play = next(p for p in corpus.plays if p.slug == excerpt.play_slug)
    scene = next(s for s in play.scenes if s.label == excerpt.scene_label)
    return [
        speech
        for speech in scene.speeches
        if excerpt.first_line <= speech.first_line_number <= excerpt.last_line
    ]


@pytest.fixture(scope="module")
def excerpts(plays_corpus) -> list[tuple[int, int, RealExcerpt]]:
    return [(n, seed, sample_excerpt(plays_corpus, n, seed)) for n in LENGTHS for seed in SEEDS]


def test_excerpts_are_within_fifteen_percent_of_the_requested_length(excerpts):
    assert LENGTH_TOLERANCE == 0.15
    for length, seed, excerpt in excerpts:
        assert 0.85 * length <= len(excerpt.text) <= 1.15 * length, (length, seed)


def test_the_same_seed_gives_the_same_excerpt(plays_corpus):
    for length in (100, 700):
        assert sample_excerpt(plays_corpus, length, 42) == sample_excerpt(plays_corpus, length, 42)


def test_different_seeds_mostly_give_different_excerpts(plays_corpus):
    texts = {sample_excerpt(plays_corpus, 400, seed).text for seed in range(20)}
    assert len(texts) >= 18


def test_the_seed_is_recorded(excerpts):
    assert all(excerpt.seed == seed for _, seed, excerpt in excerpts)


def test_excerpt_text_appears_verbatim_in_the_test_text_at_speech_boundaries(
    plays_corpus, excerpts
):
    text = plays_corpus.text("test")
    for _, _, excerpt in excerpts:
        start = text.find(excerpt.text + "\n")  # followed by the blank line that ends a speech
        assert start >= 0
        assert start == 0 or text[start - 2 : start] == "\n\n"


def test_excerpt_text_is_the_rendering_of_whole_consecutive_speeches(plays_corpus, excerpts):
    for _, _, excerpt in excerpts:
        speeches = speeches_of(plays_corpus, excerpt)
        assert "".join(render_speech(s) for s in speeches) == excerpt.text + "\n"
        assert speeches[-1].line_numbers[-1] == excerpt.last_line


def test_excerpt_starts_with_a_speaker_line_and_ends_with_one_newline(excerpts):
    for _, _, excerpt in excerpts:
        assert excerpt.text.split("\n", 1)[0] == f"{excerpt.speakers[0]}:"
        assert excerpt.text.endswith("\n") and not excerpt.text.endswith("\n\n")


def test_speakers_are_the_name_lines_of_the_text_in_order_of_first_appearance(excerpts):
    for _, _, excerpt in excerpts:
        blocks = excerpt.text.split("\n\n")
        name_lines = [block.split("\n", 1)[0] for block in blocks]
        assert tuple(dict.fromkeys(name_lines)) == tuple(f"{s}:" for s in excerpt.speakers)


def test_attribution_fields_are_consistent(plays_corpus, excerpts):
    plays = {play.slug: play for play in plays_corpus.plays}
    for _, _, excerpt in excerpts:
        assert 1 <= excerpt.first_line <= excerpt.last_line
        play = plays[excerpt.play_slug]
        assert excerpt.play == play.title
        labels = {(scene.act, scene.scene): scene.label for scene in play.scenes}
        assert labels[(excerpt.act, excerpt.scene)] == excerpt.scene_label
        assert excerpt.attribution() == (
            f"{excerpt.play}, {excerpt.scene_label}, lines {excerpt.first_line}-{excerpt.last_line}"
        )


def test_line_range_counts_the_spoken_lines_of_the_excerpt(excerpts):
    for _, _, excerpt in excerpts:
        spoken = [line for block in excerpt.text.split("\n\n") for line in block.split("\n")[1:]]
        spoken = [line for line in spoken if line]
        assert excerpt.last_line - excerpt.first_line + 1 == len(spoken)


def test_excerpts_come_only_from_test_plays_by_default(excerpts):
    for _, _, excerpt in excerpts:
        assert excerpt.split == "test"
        assert excerpt.play_slug in TEST_PLAYS


def test_excerpts_cover_every_test_play(excerpts):
    assert {excerpt.play_slug for _, _, excerpt in excerpts} == set(TEST_PLAYS)


def test_another_split_can_be_asked_for(plays_corpus):
    excerpt = sample_excerpt(plays_corpus, 300, 3, split="val")
    assert excerpt.split == "val" and excerpt.play_slug in VALIDATION_PLAYS
    assert excerpt.text in plays_corpus.text("val")


@pytest.mark.parametrize("length", [-5, 0, MIN_EXCERPT_LENGTH - 1, MAX_EXCERPT_LENGTH + 1, 10**9])
def test_length_out_of_range_is_an_excerpt_error(plays_corpus, length):
    with pytest.raises(
        ExcerptError, match=f"between {MIN_EXCERPT_LENGTH} and {MAX_EXCERPT_LENGTH}"
    ):
        sample_excerpt(plays_corpus, length, 0)


def test_the_length_limits_themselves_are_accepted(plays_corpus):
    for length in (MIN_EXCERPT_LENGTH, MAX_EXCERPT_LENGTH):
        excerpt = sample_excerpt(plays_corpus, length, 0)
        assert abs(len(excerpt.text) - length) <= LENGTH_TOLERANCE * length


def test_excerpt_error_is_a_value_error():
    assert issubclass(ExcerptError, ValueError)


def test_a_split_without_plays_is_an_excerpt_error():
    only_train = PlaysCorpus((parse_play("**KING**  \nWhat, ho!\n", "king-lear"),))
    with pytest.raises(ExcerptError, match="no plays"):
        sample_excerpt(only_train, 100, 0)


def test_no_run_of_speeches_near_the_length_is_an_excerpt_error():
    hamlet = parse_play("## ACT I\n\n### SCENE I. Elsinore.\n\n**HAMLET**  \nO!\n", "hamlet")
    with pytest.raises(ExcerptError, match="within 15%"):
        sample_excerpt(PlaysCorpus((hamlet,)), 1000, 0)
