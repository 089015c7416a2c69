"""Constrained generation: a constraint steers one passage as it is written, for any model family.

At every step of the shared sampling loop (app/lm/base.py) a passage's constraint may

    force text        forced() -> "\\n\\nCELIA:\\n": the next tokens are these, no die is rolled
    mask the die      allowed() -> (V,) 1.0 for the tokens allowed now, 0.0 for the rest
    end the passage   finished -> True once it is complete

and is told every piece of text that was written (accept). A constraint reads text, never token
ids, so the same one works on a character vocabulary and on a word vocabulary: what it needs of
the vocabulary is precomputed once per generator in a TokenTable.

The constraints of the game:
    Scaffold  the real excerpt's speakers in order and its line lengths: a speech ends only when it
              has its lines, the next speaker's heading is forced, no blank line inside a speech
    Lexicon   every word is a word of the training plays: letters that continue no known word are
              masked, and a word may end only where it is complete
    Glue      (word vocabularies) a word token never sticks to the word before it ("homePitchers"),
              and a line never starts with a space
"""

import bisect
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.corpus import WORD, is_word_character, spoken_words

if TYPE_CHECKING:
    from app.lm.base import Generator

# How far a generated line may run from the real line it stands for, as (slack factor, slack
# characters): it may end from LINE_MIN of the real length, stops taking new words past LINE_SOFT
# and is ended at LINE_HARD. Measured on 60 fakes of the 2x384 facing test excerpts, these give
# lines 0.25 characters shorter than the real ones on average, shorter in 53% of passages; with
# the line free to end from 70% of the real length they were 1.5 shorter, in 87%: a tell.
LINE_MIN = (0.9, 0)
LINE_SOFT = (1.0, -3)  # the word under way when it is passed ends the line near the real length
LINE_HARD = (1.3, 8)
# A real speech ends on one of these far more often than not (98% of the test plays' speeches);
# a fake's speech ends on the same mark as the real one it stands for: one stopped mid-sentence,
# or a run of "--" endings, would be a tell.
SPEECH_ENDINGS = ".?!-"


class Constraint:
    """Steers one passage; the default steers nothing."""

    def forced(self) -> str | None:
        """Text the passage must continue with now, or None."""
        return None

    def allowed(self) -> np.ndarray | None:
        """(V,) 1.0 for each token allowed next and 0.0 for the others, or None for all."""
        return None

    def fold(self) -> tuple[np.ndarray, int] | None:
        """(tokens (V,) 0/1, token id): the probability of those tokens goes to that one, before
        any mask; None for no move. How a line is ended where a word would begin."""
        return None

    def accept(self, piece: str) -> None:
        """The piece of text just written (forced or rolled)."""

    def start(self, prime: str) -> None:
        """The passage begins after `prime` (the model has read it)."""
        self.accept(prime)

    @property
    def finished(self) -> bool:
        return False


class TokenTable:
    """What constraints need to know of a vocabulary, computed once per generator. Masks: (V,)"""

    def __init__(self, vocabulary: list[str], never_sampled: Iterable[int] = ()):
        self.vocabulary = vocabulary
        self.size = len(vocabulary)
        skipped = set(never_sampled)  # "<unk>" is no token a passage is written with
        self.single_characters = all(
            len(t) == 1 for i, t in enumerate(vocabulary) if i not in skipped
        )
        self.lexicon_memo: dict[str, Any] = {}
        self.index = {token: i for i, token in enumerate(vocabulary)}

        def mask(test) -> np.ndarray:
            return np.array([1.0 if test(t) else 0.0 for t in vocabulary])

        self.ones = np.ones(self.size)
        self.newline = mask(lambda t: t == "\n")
        self.not_newline = 1.0 - self.newline
        self.starts_with_space = mask(lambda t: t.startswith(" "))
        self.starts_with_word_character = mask(lambda t: bool(t) and is_word_character(t[0]))
        # tokens that go on with the word under way: letters of a character vocabulary; a word
        # vocabulary's tokens are whole words, so none of them does
        self.continues_word = (
            self.starts_with_word_character if self.single_characters else np.zeros(self.size)
        )
        self.no_space = 1.0 - self.starts_with_space
        # a line neither starts with a space nor is empty
        self.line_start = self.not_newline * self.no_space
        self._word_or: dict[str, np.ndarray] = {}

    def word_or(self, mark: str) -> np.ndarray:
        """Tokens that go on with a word, and the mark itself (".", " ." for word tokens)."""
        if mark not in self._word_or:
            exact = np.array([1.0 if t.strip(" ") == mark else 0.0 for t in self.vocabulary])
            self._word_or[mark] = np.maximum(self.continues_word, exact)
        return self._word_or[mark]

    @staticmethod
    def of(generator: "Generator") -> "TokenTable":
        table = getattr(generator, "_token_table", None)
        if table is None or table.vocabulary is not generator.vocabulary:
            table = TokenTable(generator.vocabulary, generator.never_sampled)
            generator._token_table = table
        return table


class AllOf(Constraint):
    """Several constraints at once: the first that forces text wins, masks multiply."""

    def __init__(self, constraints: Iterable[Constraint]):
        self.constraints = [c for c in constraints if c is not None]

    def forced(self) -> str | None:
        for constraint in self.constraints:
            text = constraint.forced()
            if text:
                return text
        return None

    def allowed(self) -> np.ndarray | None:
        combined = None
        for constraint in self.constraints:
            mask = constraint.allowed()
            if mask is not None:
                combined = mask if combined is None else combined * mask
        return combined

    def fold(self) -> tuple[np.ndarray, int] | None:
        for constraint in self.constraints:
            move = constraint.fold()
            if move is not None:
                return move
        return None

    def accept(self, piece: str) -> None:
        for constraint in self.constraints:
            constraint.accept(piece)

    def start(self, prime: str) -> None:
        for constraint in self.constraints:
            constraint.start(prime)

    @property
    def finished(self) -> bool:
        return any(constraint.finished for constraint in self.constraints)


# -- the scaffold ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeechShape:
    speaker: str
    line_lengths: tuple[int, ...]  # characters of each real line
    ending: str = ""  # the real speech's last character when it is one of SPEECH_ENDINGS

    def as_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "lines": list(self.line_lengths), "ending": self.ending}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpeechShape":
        return cls(data["speaker"], tuple(data["lines"]), data.get("ending", ""))


def shape_of(speeches: Iterable[tuple[str, list[str]]]) -> tuple[SpeechShape, ...]:
    """The scaffold of a rendered passage's speeches (app.corpus.speeches_of)."""
    shapes = []
    for speaker, lines in speeches:
        last = lines[-1][-1:] if lines else ""
        ending = last if last and last in SPEECH_ENDINGS else ""
        shapes.append(SpeechShape(speaker, tuple(len(line) for line in lines), ending))
    return tuple(shapes)


def _bound(length: int, slack: tuple[float, int]) -> int:
    factor, extra = slack
    return int(length * factor) + extra


class Scaffold(Constraint):
    """Write the speeches of `shapes`: each heading forced, each speech exactly its number of
    lines, each line about as long as the real one, no blank line inside a speech."""

    def __init__(self, table: TokenTable, shapes: tuple[SpeechShape, ...]):
        if not shapes or any(not shape.line_lengths for shape in shapes):
            raise ValueError("a scaffold needs at least one speech, and each speech a line")
        self.table, self.shapes = table, shapes
        self.speech, self.line = 0, 0
        self.column = 0  # characters written on the current line
        self.last_character = ""
        self.echo = 0  # characters of forced text still to come back through accept()
        self.heading_due = True  # the first speech's heading starts the passage
        self._done = False

    def forced(self) -> str | None:
        if self._done:
            return None
        if self.heading_due:
            text = ("\n" if self.speech else "") + self.shapes[self.speech].speaker + ":\n"
            self.heading_due = False  # the state is that of the new speech's first line already
            self.echo += len(text)  # it comes back through accept(), where it is skipped
            return text
        if self.column >= _bound(self._real_length(), LINE_HARD):
            return "\n"  # a runaway line (no lexicon to end its word) is ended here
        return None

    def _ending(self) -> str:
        """The mark the current line must end on: the real speech's, on its last line (none where
        the vocabulary cannot write it, rather than a line that cannot end)."""
        shape = self.shapes[self.speech]
        if self.line != len(shape.line_lengths) - 1 or shape.ending not in self.table.index:
            return ""
        return shape.ending

    def _real_length(self) -> int:
        return self.shapes[self.speech].line_lengths[self.line]

    def allowed(self) -> np.ndarray | None:
        if self._done:
            return None
        table, real = self.table, self._real_length()
        if self.column == 0:
            return table.line_start
        if self.column < _bound(real, LINE_MIN):
            return table.not_newline
        ending = self._ending()
        # a line never ends on a space, and a speech ends on the real one's mark
        may_end = self.last_character != " " and (not ending or self.last_character == ending)
        if self.column < max(_bound(real, LINE_SOFT), _bound(real, LINE_MIN)):
            return table.ones if may_end else table.not_newline
        # Past the soft bound the line is brought to its end: no new word is begun (where the
        # model would begin one, fold() turns the space into the line's end).
        in_word = is_word_character(self.last_character)
        if may_end:
            return table.no_space if in_word else table.newline
        if in_word:
            return table.word_or(ending)  # finish the word, or write the speech's last mark
        return table.not_newline  # after other punctuation: on until the mark (LINE_HARD stops it)

    def fold(self) -> tuple[np.ndarray, int] | None:
        """Past the soft bound, after a word: the space the model would write becomes the line's
        end (or the speech's last mark), as a compositor breaks a line of prose. Masking the
        space instead would hand its probability to punctuation: a fake full of full stops."""
        if self._done or self.column == 0 or not is_word_character(self.last_character):
            return None
        real = self._real_length()
        if self.column < max(_bound(real, LINE_SOFT), _bound(real, LINE_MIN)):
            return None
        ending = self._ending()
        target = self.table.index.get(ending or "\n")
        return None if target is None else (self.table.starts_with_space, target)

    def start(self, prime: str) -> None:
        pass  # the prime is context (the scene so far); the scaffold starts after it

    def accept(self, piece: str) -> None:
        for character in piece:
            if self.echo:
                self.echo -= 1
                continue
            if character == "\n":
                self._end_line()
            else:
                self.column += 1
                self.last_character = character

    def _end_line(self) -> None:
        self.column, self.last_character = 0, ""
        self.line += 1
        if self.line == len(self.shapes[self.speech].line_lengths):
            self.speech, self.line = self.speech + 1, 0
            if self.speech == len(self.shapes):
                self._done = True
            else:
                self.heading_due = True

    @property
    def finished(self) -> bool:
        return self._done


# -- the lexicon -------------------------------------------------------------------------------
class Lexicon:
    """The words of the training plays, sorted, so that "does any word start with this?" is a
    binary search; the allowed next letters of a prefix are worked out once and remembered."""

    MEMO_LIMIT = 50_000  # prefixes remembered per vocabulary before the memo starts afresh

    def __init__(self, words: Iterable[str]):
        self.words = sorted(set(words))
        self.word_set = frozenset(self.words)
        self.letters = sorted({c for word in self.words for c in word})

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.word_set

    def has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self.words, prefix)
        return i < len(self.words) and self.words[i].startswith(prefix)

    def next_letters(self, prefix: str) -> str:
        """The letters that continue `prefix` towards some word."""
        return "".join(c for c in self.letters if self.has_prefix(prefix + c))

    def constraint(self, table: TokenTable) -> Constraint:
        if table.single_characters:
            return SpellingConstraint(self, table)
        return KnownWordsConstraint(self._known_token_mask(table))

    def _known_token_mask(self, table: TokenTable) -> np.ndarray:
        """(V,) 1.0 for the tokens of a word vocabulary whose words are all in the lexicon."""
        memo = self.memo_for(table)
        if "_known_tokens" not in memo:
            memo["_known_tokens"] = np.array(
                [
                    1.0 if all(w in self.word_set for w in WORD.findall(t)) else 0.0
                    for t in table.vocabulary
                ]
            )
        return memo["_known_tokens"]

    def memo_for(self, table: TokenTable) -> dict[str, Any]:
        """Masks worked out for this lexicon on this vocabulary, kept on the table: the pool
        writes thousands of passages with one model."""
        memo = table.lexicon_memo
        if memo.get("_lexicon") is not self:
            memo.clear()
            memo["_lexicon"] = self
        return memo


class SpellingConstraint(Constraint):
    """A character model spells only words of the lexicon, ending each only where it is complete.

    Text that is forced (a speaker's name) may hold a word the lexicon lacks: it is let through,
    and the constraint picks up again at the next separator."""

    def __init__(self, lexicon: Lexicon, table: TokenTable):
        self.lexicon, self.table = lexicon, table
        self.memo = lexicon.memo_for(table)
        self.prefix = ""  # the word being spelled
        self.lost = False  # the prefix is no start of a known word (forced text)
        # separators: every character that is not part of a word (space, punctuation, newline)
        self.separators = np.array([0.0 if is_word_character(t) else 1.0 for t in table.vocabulary])

    def allowed(self) -> np.ndarray | None:
        if self.lost:
            return None
        entry = self.memo.get(self.prefix)
        if entry is None:
            if len(self.memo) > Lexicon.MEMO_LIMIT:
                self.memo.clear()
                self.memo["_lexicon"] = self.lexicon
            mask = np.zeros(self.table.size)
            index = self.table.index
            for letter in self.lexicon.next_letters(self.prefix):
                if letter in index:
                    mask[index[letter]] = 1.0
            if not self.prefix or self.prefix in self.lexicon:
                mask = np.maximum(mask, self.separators)
            entry = self.memo[self.prefix] = mask
        return entry

    def accept(self, piece: str) -> None:
        for character in piece:
            if is_word_character(character):
                self.prefix += character
                if not self.lost and not self.lexicon.has_prefix(self.prefix):
                    self.lost = True
            else:
                self.prefix, self.lost = "", False


class KnownWordsConstraint(Constraint):
    """A word model writes only tokens whose words are in the lexicon: one fixed mask."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    def allowed(self) -> np.ndarray:
        return self.mask


# -- the glue of word tokens ---------------------------------------------------------------------
class Glue(Constraint):
    """Word tokens keep their leading space (" soft"); a line's first word has none ("But"). After
    anything but a line start or a hyphen, a word without its space would stick to what came before
    ("homePitchers"): such tokens are masked; at a line start, tokens with a space are."""

    def __init__(self, table: TokenTable):
        self.table = table
        self.after_word = 1.0 - table.starts_with_word_character
        self.last = "\n"  # a passage starts at a line start

    def allowed(self) -> np.ndarray | None:
        if self.last == "\n":
            return self.table.line_start
        if self.last == "-":
            return None
        return self.after_word

    def accept(self, piece: str) -> None:
        if piece:
            self.last = piece[-1]


def spelled_from(lexicon: Lexicon, generator: "Generator"):
    """constraints(i) for `generator.sample`: every passage under the lexicon (the sampling option
    `lexicon=true` of the API and `realornn sample --lexicon`)."""
    table = TokenTable.of(generator)
    return lambda i: lexicon.constraint(table)


_LEXICONS: "weakref.WeakKeyDictionary[Any, Lexicon]" = weakref.WeakKeyDictionary()


def training_lexicon(corpus: Any) -> Lexicon:
    """The words of a corpus's training text (its spoken lines), built once per corpus object."""
    lexicon = _LEXICONS.get(corpus)
    if lexicon is None:
        lexicon = _LEXICONS[corpus] = Lexicon(spoken_words(corpus.text("train")))
    return lexicon
