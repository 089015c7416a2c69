"""Find the longest stretch of generated text that is copied verbatim from the training text.

Why a guard: an n-gram model of high order (and, less often, an RNN) happily reproduces whole lines
of Shakespeare word for word. The game asks players to tell real Shakespeare from generated text, so
a "generated" passage that is really a quotation is a lie. Before a passage is shown we ask: what is
the longest span of it that occurs, character for character, somewhere in the training text, and
where? The caller decides what length is too long.

What a suffix array is: write down every suffix of the training text (the text starting at offset
0, at offset 1, ...), sort them alphabetically, and keep only their start offsets. For "banana":

    offset  suffix          sorted   offset  suffix
    0       banana                   5       a
    1       anana                    3       ana
    2       nana       ->            1       anana
    3       ana                      0       banana
    4       na                       4       na
    5       a                        2       nana

    suffix array = [5, 3, 1, 0, 4, 2]

Every substring of the text is a prefix of some suffix, and all suffixes that start with a given
fragment sit next to each other in sorted order. So "does this fragment occur, and where?" is a
binary search: about log2(n) = 22 comparisons for a 4-million-character text. And the suffix that
shares the longest prefix with a query sits right next to where the query would be inserted, so
"how much of this query occurs?" is the same binary search plus a look at the two neighbours.
The array costs 4 bytes per character (int32) and libdivsufsort builds it in well under a second.

How a query works: let match(i) be the length of the longest prefix of generated[i:] found in the
training text; we want the largest match(i), earliest i on ties. We never need match(i) itself
unless it beats the best length found so far, and it does exactly when the next best + 1
characters at i occur in the training text. So each position costs one short lookup, and only a
new record costs a full search for the exact match length. A 600-character query needs at most
about 600 lookups however much of it is copied; a verbatim copy needs just one lookup and one
full search.

Characters, not bytes: offsets and lengths are counted in Python characters, and the binary search
compares Python strings, which order by code point. The suffix array must therefore sort suffixes
by code point too. When every character is below 256 (ASCII and Latin-1) the code points are the
bytes we sort. Otherwise each character is replaced by its rank among the distinct characters of
the text (which keeps their order); up to 256 distinct characters still fit one byte each, more
need 2 or 4 bytes per symbol, which pydivsufsort handles by sorting the big-endian bytes and
keeping only the suffixes that start on a symbol boundary. That wide case briefly needs 2 or 4
times the usual memory while building, but it is exact, and spans can never split a character.
"""

import bisect
from dataclasses import dataclass

import numpy as np
from pydivsufsort import divsufsort


@dataclass(frozen=True)
class CopiedSpan:
    """The longest piece of a generated text that also occurs in the training text."""

    text: str  # the copied characters ("" when nothing at all is shared)
    length: int  # len(text), in characters
    generated_start: int  # offset of the span in the generated text (characters)
    source_start: int  # offset of one occurrence in the training text (characters), -1 if length 0


class CopyGuard:
    """Answers "what did this generated text copy from the training text?" in milliseconds."""

    def __init__(self, training_text: str):
        if not training_text:
            raise ValueError("CopyGuard needs a non-empty training text to search for copies")
        self.training_text = training_text  # a reference to the caller's string, not a copy
        self.suffix_array = build_suffix_array(training_text)
        # bisect indexes a memoryview as a plain Python int, much faster than a numpy scalar.
        # The array from ctypes reports format "<i", which memoryview cannot index, so view it
        # as raw bytes and back as native ints: no copy either way.
        native_format = {4: "i", 8: "q"}[self.suffix_array.itemsize]
        self._sorted_suffix_starts = memoryview(self.suffix_array).cast("B").cast(native_format)

    def find_occurrence(self, fragment: str) -> int:
        """Offset of one occurrence of fragment in the training text, or -1 if it never occurs."""
        position = self._first_suffix_not_below(fragment)
        if position == len(self._sorted_suffix_starts):
            return -1
        source_start = self._sorted_suffix_starts[position]
        return source_start if self.training_text.startswith(fragment, source_start) else -1

    def longest_copied_span(self, generated: str) -> CopiedSpan:
        """The longest span of generated found verbatim in the training text; earliest on ties."""
        best_length, best_generated_start, best_source_start = 0, 0, -1
        start = 0
        # Once fewer than best_length + 1 characters remain after start, no later span can win.
        while start + best_length < len(generated):
            # A span starting here beats the record exactly when its first best_length + 1
            # characters occur; that short lookup is all most positions cost.
            if self.find_occurrence(generated[start : start + best_length + 1]) >= 0:
                best_length, best_source_start = self._longest_prefix_match(generated[start:])
                best_generated_start = start
            start += 1
        copied_text = generated[best_generated_start : best_generated_start + best_length]
        return CopiedSpan(copied_text, best_length, best_generated_start, best_source_start)

    def _first_suffix_not_below(self, query: str) -> int:
        """Index of the first sorted suffix whose first len(query) characters are >= query."""
        text, compared_length = self.training_text, len(query)
        # Cutting suffixes to the query's length keeps them in sorted order, so bisect applies.
        return bisect.bisect_left(
            self._sorted_suffix_starts,
            query,
            key=lambda suffix_start: text[suffix_start : suffix_start + compared_length],
        )

    def _longest_prefix_match(self, query: str) -> tuple[int, int]:
        """(length, source_start) of the longest prefix of query found in the training text."""
        position = self._first_suffix_not_below(query)
        # The suffix sharing the longest prefix with query is one of its two sorted neighbours.
        neighbours = range(max(position - 1, 0), min(position + 1, len(self._sorted_suffix_starts)))
        best_length, best_source_start = 0, -1
        for neighbour in neighbours:
            source_start = self._sorted_suffix_starts[neighbour]
            length = self._common_prefix_length(query, source_start)
            if length > best_length:
                best_length, best_source_start = length, source_start
        return best_length, best_source_start

    def _common_prefix_length(self, query: str, source_start: int) -> int:
        """How many leading characters of query equal the training text from source_start on."""
        # Bisect on the length: about log2(len(query)) C-speed comparisons instead of a Python loop
        # over characters. Invariant: the first `matched` characters are known to agree.
        matched = 0
        at_most = min(len(query), len(self.training_text) - source_start)
        while matched < at_most:
            probe = (matched + at_most + 1) // 2
            if self.training_text.startswith(query[matched:probe], source_start + matched):
                matched = probe
            else:
                at_most = probe - 1
        return matched


def build_suffix_array(text: str) -> np.ndarray:
    """Start offsets of the suffixes of text, sorted by code point (int32, or int64 past 2 GiB)."""
    return divsufsort(_symbols_in_code_point_order(text))


def _symbols_in_code_point_order(text: str) -> np.ndarray:
    """One unsigned integer per character, ordered like the characters' code points."""
    try:
        # bytearray, not bytes: pydivsufsort hands the buffer to ctypes, which refuses read-only.
        return np.frombuffer(bytearray(text.encode("latin-1")), dtype=np.uint8)
    except UnicodeEncodeError:
        pass
    # surrogatepass: a str may hold lone surrogates (e.g. from a badly decoded file); keep them.
    code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    # Dense ranks through a lookup table indexed by code point: linear time, where np.unique
    # would sort all 4 million characters (8x slower).
    is_present = np.zeros(int(code_points.max()) + 1, dtype=bool)
    is_present[code_points] = True
    rank_of_code_point = np.cumsum(is_present, dtype=np.uint32) - 1
    distinct_characters = int(rank_of_code_point[-1]) + 1
    symbol_type = next(
        dtype
        for dtype in (np.uint8, np.uint16, np.uint32)
        if distinct_characters <= np.iinfo(dtype).max + 1
    )
    return rank_of_code_point[code_points].astype(symbol_type)
