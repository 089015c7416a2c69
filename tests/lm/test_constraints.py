"""app/lm/constraints.py and the constraint hook of app/lm/base.py, on both model families.

Tiny models (an n-gram of a short text, an RNN with random weights) so that the constraints, not
the model, must be what keeps a passage in shape.
"""

import re

import numpy as np
import pytest

from app.corpus import WORD, speeches_of
from app.lm.constraints import (
    LINE_HARD,
    AllOf,
    Constraint,
    Glue,
    KnownWordsConstraint,
    Lexicon,
    Scaffold,
    SpeechShape,
    SpellingConstraint,
    TokenTable,
    shape_of,
    spelled_from,
)
from app.lm.ngram import NGramModel
from app.lm.sampling import SamplingParams
from tests.lm.test_ngram import TEXT
from tests.lm.test_ngram import model as ngram_model
from tests.lm.test_rnn import tiny_model

FAMILIES = ["char-ngram", "word-ngram", "rnn"]


def generator(family: str):
    if family == "char-ngram":
        return ngram_model("char", 3)
    if family == "word-ngram":
        return ngram_model("word", 2)
    return tiny_model("lstm", layers=1)


class OnlyThese(Constraint):
    """Masks the die to the tokens whose text is in `allowed`; forces `forced` at step `at`."""

    def __init__(self, table: TokenTable, allowed: set[str], forced: str = "", at: int = -1):
        self.mask = np.array([1.0 if t in allowed else 0.0 for t in table.vocabulary])
        self.forced_text, self.at, self.steps = forced, at, 0
        self.pieces: list[str] = []

    def forced(self):
        return self.forced_text if self.steps == self.at and self.forced_text else None

    def allowed(self):
        return self.mask

    def accept(self, piece: str) -> None:
        self.pieces.append(piece)
        self.steps += 1

    def start(self, prime: str) -> None:
        pass


def allowed_tokens(model) -> set[str]:
    """A few tokens of the model's vocabulary that are neither rare nor the unknown token."""
    if model.vocabulary[1] == "\n" and any(len(t) > 1 for t in model.vocabulary[2:]):
        return {" we", " the", " citizens", ",", "\n"}  # word vocabulary
    return {"a", "e", "s", " ", "\n"}


# -- the hook ----------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_a_mask_keeps_every_token_of_a_passage_inside_it(family: str) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    allowed = allowed_tokens(model)
    kept = [t for t in allowed if t in table.index]
    passages = model.sample(
        SamplingParams(length=120, seed=4), 3, lambda i: OnlyThese(table, allowed)
    )
    for passage in passages:
        tokens, _ = model.tokenize(passage.text)
        assert tokens and set(tokens[:-1]) <= set(kept)  # the last one may be cut at the length
    free = model.sample(SamplingParams(length=120, seed=4), 1)[0]  # the mask is what did it
    assert not set(model.tokenize(free.text)[0]) <= set(kept)


@pytest.mark.parametrize("family", FAMILIES)
def test_forced_text_is_written_as_it_is_and_the_rest_stays_under_the_mask(family: str) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    allowed = allowed_tokens(model)
    forced = "\nALL:\n"
    passage = model.sample(
        SamplingParams(length=80, prime="ALL:\n", seed=9),
        1,
        lambda i: OnlyThese(table, allowed, forced=forced, at=3),
    )[0]
    body = passage.text[len("ALL:\n") :]
    tokens, _ = model.tokenize(body)
    written_before = "".join(tokens[:3])
    assert body[len(written_before) :].startswith(forced)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_same_seed_gives_the_same_constrained_passage_and_batches_equal_lone_ones(
    family: str,
) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    shapes = (SpeechShape("ALL", (20, 15), "."), SpeechShape("FIRST CITIZEN", (30,), "?"))

    def constraints(i):
        return Scaffold(table, shapes)

    params = SamplingParams(length=400, seed=21)
    batch = model.sample(params, 3, constraints)
    again = model.sample(params, 3, constraints)
    assert [p.text for p in batch] == [p.text for p in again]
    for i, passage in enumerate(batch):
        lone = model.sample(SamplingParams(length=400, seed=21 + i), 1, constraints)[0]
        assert lone.text == passage.text
    assert len({p.text for p in batch}) > 1  # the seed still decides the words


@pytest.mark.parametrize("family", FAMILIES)
def test_the_stream_shows_the_masked_die_and_joins_to_the_sample(family: str) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    allowed = allowed_tokens(model)
    params = SamplingParams(length=60, seed=5)

    def constraints(i):
        return OnlyThese(table, allowed, forced="ALL:", at=2)

    steps = list(model.stream_with_die(params, top=10, constraints=constraints))
    assert "".join(piece for piece, _ in steps) == model.sample(params, 1, constraints)[0].text
    forced_seen = False
    for piece, die in steps:
        assert {token for token, _ in die} <= allowed | set(model.tokenize("ALL:")[0])
        assert sum(p for _, p in die) == pytest.approx(1.0) or len(die) == 10
        if die and die[0] == (piece, 1.0) and piece not in allowed:
            forced_seen = True  # a forced piece's die is that piece alone
    assert forced_seen


def test_a_die_the_model_gives_no_allowed_token_becomes_a_fair_one_over_the_allowed() -> None:
    model = ngram_model("char", 3, smoothing="mle")  # mle: unseen continuations get 0
    table = TokenTable.of(model)
    # "Z" follows nothing in the text: the model gives it probability 0 everywhere
    passage = model.sample(
        SamplingParams(length=10, prime="ALL", seed=1), 1, lambda i: OnlyThese(table, {"Z"})
    )[0]
    assert passage.text == "ALL" + "Z" * 10


# -- the scaffold ------------------------------------------------------------------------------
SHAPES = (
    SpeechShape("ALL", (24, 31), "."),
    SpeechShape("FIRST CITIZEN", (40, 22, 35), "?"),
    SpeechShape("ALL", (12,), "!"),
)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_scaffolded_passage_has_the_speakers_speeches_and_lines_of_its_scaffold(
    family: str,
) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    for seed in range(4):
        text = model.sample(
            SamplingParams(length=1000, seed=seed), 1, lambda i: Scaffold(table, SHAPES)
        )[0].text
        speeches = speeches_of(text)
        assert [(s, len(lines)) for s, lines in speeches] == [
            (shape.speaker, len(shape.line_lengths)) for shape in SHAPES
        ]
        assert "\n\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n")
        for (_, lines), shape in zip(speeches, SHAPES, strict=True):
            for line, real in zip(lines, shape.line_lengths, strict=True):
                assert line.strip() and not line.startswith(" ") and not line.endswith(" ")
                assert len(line) <= int(real * LINE_HARD[0]) + LINE_HARD[1] + 1


def test_on_a_real_model_the_lines_are_about_as_long_as_the_real_ones_and_speeches_end_alike(
    plays_corpus,
) -> None:
    from app.lm.checkpoints import load_checkpoint
    from tests.conftest import SHIPPED_NGRAM

    model = load_checkpoint(SHIPPED_NGRAM)
    table = TokenTable.of(model)
    real = "CELIA:\nI pray you, bear with me; I cannot go no further.\n\nTOUCHSTONE:\nFor my part,"
    real += " I had rather bear with you than bear you;\nyet I should bear no cross if I did bear"
    real += " you, for I think you\nhave no money in your purse.\n"
    shapes = shape_of(speeches_of(real))
    ratios, endings = [], 0
    for seed in range(10):
        text = model.sample(
            SamplingParams(length=400, seed=seed, temperature=0.8),
            1,
            lambda i: Scaffold(table, shapes),
        )[0].text
        made = shape_of(speeches_of(text))
        assert [(s.speaker, len(s.line_lengths)) for s in made] == [
            (s.speaker, len(s.line_lengths)) for s in shapes
        ]
        ratios.append(len(text) / len(real))
        endings += [s.ending for s in made] == [s.ending for s in shapes]
    assert 0.85 <= float(np.median(ratios)) <= 1.15
    assert endings >= 8


def test_a_scaffold_needs_a_speech_with_a_line() -> None:
    table = TokenTable(["a", "\n"])
    with pytest.raises(ValueError, match="at least one speech"):
        Scaffold(table, ())
    with pytest.raises(ValueError, match="each speech a line"):
        Scaffold(table, (SpeechShape("ALL", ()),))


def test_speech_shapes_round_trip_through_their_stored_form() -> None:
    assert tuple(SpeechShape.from_dict(s.as_dict()) for s in SHAPES) == SHAPES


# -- the lexicon -------------------------------------------------------------------------------
WORDS = ["speak", "speaks", "we", "know", "the", "citizens", "good", "a", "i", "resolved"]


def test_the_lexicon_knows_its_words_and_their_prefixes() -> None:
    lexicon = Lexicon(WORDS + ["we"])
    assert len(lexicon) == len(WORDS)
    assert "speak" in lexicon and "spea" not in lexicon
    assert lexicon.has_prefix("spea") and lexicon.has_prefix("") and not lexicon.has_prefix("sz")
    assert lexicon.next_letters("spea") == "k"
    assert lexicon.next_letters("speak") == "s"
    assert lexicon.next_letters("c") == "i"
    assert lexicon.next_letters("zz") == ""


@pytest.mark.parametrize("family", ["char-ngram", "rnn"])
def test_a_character_model_under_the_lexicon_spells_only_its_words(family: str) -> None:
    model = generator(family)
    table = TokenTable.of(model)
    lexicon = Lexicon(WORDS)
    assert isinstance(lexicon.constraint(table), SpellingConstraint)
    for seed in range(3):
        text = model.sample(SamplingParams(length=300, seed=seed), 1, spelled_from(lexicon, model))[
            0
        ].text
        words = WORD.findall(text)[:-1]  # the length may cut the last word short
        assert words and all(word in lexicon for word in words), text
    free = model.sample(SamplingParams(length=300, seed=0), 1)[0].text
    assert not all(word in lexicon for word in WORD.findall(free))


def test_a_scaffold_with_the_lexicon_lets_the_speakers_names_through(plays_corpus) -> None:
    model = generator("char-ngram")
    table = TokenTable.of(model)
    lexicon = Lexicon(WORDS)
    text = model.sample(
        SamplingParams(length=1000, seed=3),
        1,
        lambda i: AllOf([Scaffold(table, SHAPES), lexicon.constraint(table)]),
    )[0].text
    speeches = speeches_of(text)
    assert [s for s, _ in speeches] == [shape.speaker for shape in SHAPES]
    for _, lines in speeches:
        assert all(word in lexicon for line in lines for word in WORD.findall(line))


def test_a_word_model_under_the_lexicon_writes_only_tokens_of_known_words() -> None:
    model = generator("word-ngram")
    table = TokenTable.of(model)
    lexicon = Lexicon(WORDS)
    assert isinstance(lexicon.constraint(table), KnownWordsConstraint)
    text = model.sample(SamplingParams(length=300, seed=2), 1, spelled_from(lexicon, model))[0].text
    words = WORD.findall(text)[:-1]  # the length may cut the last word short
    assert words and all(word in lexicon for word in words)


# -- the glue of word tokens ---------------------------------------------------------------------
def glue_faults(text: str) -> list[str]:
    """Words stuck to the word before them, and lines that start with a space."""
    lines = text.split("\n")
    return [line for line in lines if line.startswith(" ")] + re.findall(r"[a-z]+[A-Z]\w*", text)


def test_word_models_never_stick_a_word_to_the_one_before_it(monkeypatch) -> None:
    model = NGramModel.train(TEXT, ngram_model("word", 1).config)
    params = [SamplingParams(length=400, seed=seed, temperature=1.5) for seed in range(12)]
    assert isinstance(model.format_constraint(TokenTable.of(model)), Glue)
    assert not any(glue_faults(model.sample(p)[0].text) for p in params)
    # the same seeds without the glue: what it prevents does happen
    monkeypatch.setattr(NGramModel, "format_constraint", lambda self, table: None)
    assert any(glue_faults(model.sample(p)[0].text) for p in params)


def test_character_models_need_no_glue() -> None:
    model = generator("char-ngram")
    assert model.format_constraint(TokenTable.of(model)) is None


def test_a_token_table_is_built_once_per_generator() -> None:
    model = generator("char-ngram")
    assert TokenTable.of(model) is TokenTable.of(model)
