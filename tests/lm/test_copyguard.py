"""CopyGuard against a brute-force search, on random, non-ASCII and edge-case texts."""

import random

import pytest

from app.lm.copyguard import CopiedSpan, CopyGuard, build_suffix_array

# Characters well past Latin-1, so the dense-rank paths are exercised too.
WIDE_CHARACTERS = "é—’😀ß"
# More than 256 distinct characters: symbols no longer fit one byte each.
OVER_256_CHARACTERS = "".join(chr(code_point) for code_point in range(0x400, 0x400 + 300))


def brute_force_longest_span(training_text: str, generated: str) -> tuple[int, int]:
    """(length, generated_start) of the longest span of generated found in training_text."""
    best_length, best_start = 0, 0
    for start in range(len(generated)):
        # Try the longest candidate first and stop at the first hit; only strictly longer wins,
        # so the earliest start is kept on ties.
        for end in range(len(generated), start + best_length, -1):
            if generated[start:end] in training_text:
                best_length, best_start = end - start, start
                break
    return best_length, best_start


def assert_matches_brute_force(training_text: str, generated: str) -> None:
    span = CopyGuard(training_text).longest_copied_span(generated)
    expected_length, expected_start = brute_force_longest_span(training_text, generated)
    assert (span.length, span.generated_start) == (expected_length, expected_start), (
        training_text,
        generated,
    )
    assert_span_is_consistent(span, training_text, generated)


def assert_span_is_consistent(span: CopiedSpan, training_text: str, generated: str) -> None:
    assert span.length == len(span.text)
    assert generated[span.generated_start : span.generated_start + span.length] == span.text
    if span.length == 0:
        assert span.source_start == -1
    else:
        assert training_text[span.source_start : span.source_start + span.length] == span.text


def random_text(rng: random.Random, alphabet: str, max_length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_length)))


@pytest.mark.parametrize("alphabet", ["a", "ab", "abc", "abcd ", "ab" + WIDE_CHARACTERS])
def test_longest_span_matches_brute_force_on_random_texts(alphabet: str) -> None:
    rng = random.Random(f"copyguard-{alphabet}")
    for _ in range(300):
        training_text = random_text(rng, alphabet, 40) or alphabet[0]
        # Draw generated text from a slightly larger alphabet so some characters are never seen.
        assert_matches_brute_force(training_text, random_text(rng, alphabet + "z", 25))


def test_longest_span_matches_brute_force_with_more_than_256_distinct_characters() -> None:
    rng = random.Random(256)
    for _ in range(40):
        training_text = OVER_256_CHARACTERS + random_text(rng, OVER_256_CHARACTERS[:5], 200)
        training_text = "".join(rng.sample(training_text, len(training_text)))
        generated = random_text(rng, OVER_256_CHARACTERS[:5] + OVER_256_CHARACTERS[-3:] + "a", 30)
        assert_matches_brute_force(training_text, generated)


def test_longest_span_matches_brute_force_with_more_than_65536_distinct_characters() -> None:
    # Every code point up to 70,000, lone surrogates included: symbols need 4 bytes each.
    training_text = "".join(chr(code_point) for code_point in range(70_000))
    training_text += "abcabcab"
    rng = random.Random(65536)
    for _ in range(20):
        start = rng.randrange(len(training_text) - 10)
        generated = "x" + training_text[start : start + rng.randint(1, 10)] + "bcaz"
        assert_matches_brute_force(training_text, generated)


@pytest.mark.parametrize(
    "text",
    [
        "banana",
        "mississippi",
        "aaaa",
        "ab—é😀ab—é",
        OVER_256_CHARACTERS[::-1] * 2,
        "\ud800a\udfffa",
    ],
)
def test_suffix_array_sorts_suffixes_like_python_strings(text: str) -> None:
    expected = sorted(range(len(text)), key=lambda start: text[start:])
    assert build_suffix_array(text).tolist() == expected


def test_span_at_the_start_of_the_training_text_is_found() -> None:
    training_text = "To be, or not to be: that is the question."
    span = CopyGuard(training_text).longest_copied_span("xxTo be, orzz")
    assert span == CopiedSpan("To be, or", 9, 2, 0)


def test_span_at_the_end_of_the_training_text_is_found() -> None:
    training_text = "To be, or not to be: that is the question."
    span = CopyGuard(training_text).longest_copied_span("#the question.")
    assert span == CopiedSpan("the question.", 13, 1, len(training_text) - 13)


def test_generated_text_identical_to_training_text_is_copied_whole() -> None:
    training_text = (
        "Now is the winter of our discontent\nMade glorious summer — by this sun of York;"
    )
    span = CopyGuard(training_text).longest_copied_span(training_text)
    assert span == CopiedSpan(training_text, len(training_text), 0, 0)


def test_nothing_shared_gives_an_empty_span() -> None:
    span = CopyGuard("abcabc").longest_copied_span("xyz—😀")
    assert span == CopiedSpan("", 0, 0, -1)


def test_empty_generated_text_gives_an_empty_span() -> None:
    assert CopyGuard("abc").longest_copied_span("") == CopiedSpan("", 0, 0, -1)


def test_empty_training_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty training text"):
        CopyGuard("")


def test_ties_report_the_earliest_span_in_the_generated_text() -> None:
    span = CopyGuard("ab cd").longest_copied_span("cd-ab")
    assert (span.text, span.generated_start, span.source_start) == ("cd", 0, 3)


def test_non_ascii_span_offsets_count_characters_not_bytes() -> None:
    training_text = "Ô café — déjà vu 😀 encore"
    span = CopyGuard(training_text).longest_copied_span("¿déjà vu 😀!")
    assert span == CopiedSpan("déjà vu 😀", 9, 1, training_text.index("déjà"))


def test_find_occurrence_points_at_the_fragment_or_returns_minus_one() -> None:
    training_text = "alas, poor Yorick — I knew him, Horatio"
    guard = CopyGuard(training_text)
    for fragment in ["alas", "Horatio", "Yorick — I", "o", training_text]:
        source_start = guard.find_occurrence(fragment)
        assert training_text[source_start : source_start + len(fragment)] == fragment
    for fragment in ["Hamlet", "Horatio!", "—I", "z"]:
        assert guard.find_occurrence(fragment) == -1
