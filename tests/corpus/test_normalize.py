"""app/corpus/normalize.py: the one place where characters are cleaned up."""

import pytest

from app.corpus.normalize import clean_spoken_line, normalize_text


class TestNormalizeText:
    def test_html_entities_are_unescaped(self):
        assert normalize_text("Rosalind &amp; Celia &lt;3") == "Rosalind & Celia <3"

    def test_text_without_entities_or_typography_is_unchanged(self):
        line = 'Now, sir! what make you here? -- \'Tis I; "Marry".\n'
        assert normalize_text(line) == line

    def test_em_dash_becomes_two_hyphens_as_in_the_gutenberg_plays(self):
        assert normalize_text("so sad\u2014it wearies me") == "so sad--it wearies me"

    @pytest.mark.parametrize(
        ("typographic", "ascii"),
        [
            ("\u2013", "-"),  # en dash
            ("\u2018tis\u2019", "'tis'"),  # curly single quotes
            ("\u201cho\u201d", '"ho"'),  # curly double quotes
            ("\u2026", "..."),  # ellipsis
            ("a\u00a0b", "a b"),  # no-break space
        ],
    )
    def test_typographic_characters_are_folded_to_ascii(self, typographic, ascii):
        assert normalize_text(typographic) == ascii

    def test_windows_and_old_mac_line_ends_become_newlines(self):
        assert normalize_text("one\r\ntwo\rthree\n") == "one\ntwo\nthree\n"

    def test_tabs_become_spaces(self):
        assert normalize_text("a\tb") == "a b"

    def test_control_and_invisible_characters_are_removed_but_newlines_kept(self):
        text = "\ufeffa\x00b\x07c\u200bd\u2060e\x85f\nnext"
        assert normalize_text(text) == "abcdef\nnext"

    def test_text_is_nfc_normalised(self):
        decomposed = "Beatrice, cafe\u0301"
        assert normalize_text(decomposed) == "Beatrice, caf\u00e9"


class TestCleanSpokenLine:
    @pytest.mark.parametrize(
        "markdown",
        [
            "_\\[Aside]_ Good signiors both, when shall we laugh?",
            "__\\[Awaking]_ Good signiors both, when shall we laugh?",
            "[Within]_ Good signiors both, when shall we laugh?",
            "Good signiors both, _\\[To Salarino]_ when shall we laugh?",
        ],
    )
    def test_inline_stage_directions_are_removed_from_spoken_lines(self, markdown):
        assert clean_spoken_line(markdown) == "Good signiors both, when shall we laugh?"

    def test_a_line_that_is_only_a_direction_becomes_empty(self):
        assert clean_spoken_line("__\\[Awaking]_  ") == ""

    @pytest.mark.parametrize(
        ("markdown", "plain"),
        [
            ("I am so sad\\--", "I am so sad--"),
            ("1\\. A lively flourish of Trumpets.", "1. A lively flourish of Trumpets."),
            ("a star\\* and \\#1 \\(so\\)!", "a star* and #1 (so)!"),
            ("back\\\\slash", "back\\slash"),
        ],
    )
    def test_markdown_escapes_are_removed(self, markdown, plain):
        assert clean_spoken_line(markdown) == plain

    def test_trailing_markdown_line_break_spaces_are_removed(self):
        assert clean_spoken_line("As I remember, Adam,  ") == "As I remember, Adam,"

    def test_runs_of_spaces_collapse_to_one(self):
        assert clean_spoken_line("  Go  apart,   Adam ") == "Go apart, Adam"

    @pytest.mark.parametrize("separator", ["* *", "*  *  *", " * ", "*"])
    def test_section_break_asterisks_are_not_speech(self, separator):
        assert clean_spoken_line(separator) == ""

    def test_an_ordinary_verse_line_is_unchanged(self):
        line = "All the world's a stage, and all the men and women merely players:"
        assert clean_spoken_line(line) == line
