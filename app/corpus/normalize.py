"""Text normalisation shared by every rendering: real plays, --text files and generated passages.

Any formatting difference between real and generated text would give the game away, so there is
exactly one place where characters are cleaned up. The rules are listed in docs/corpus.md.
"""

import html
import re
import unicodedata

# Typographic characters folded to the ASCII the Gutenberg-derived plays mostly use already
# (the plays write a dash as "--"; a few use an em dash).
TYPOGRAPHIC_TO_ASCII = str.maketrans(
    {
        "\u2014": "--",  # em dash
        "\u2013": "-",  # en dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
    }
)

# Inline stage directions inside a speech: "_\[Aside]_", "__\[Awaking]_", "[Within]_".
INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_*")
# Markdown backslash escapes: "\--", "1\.", "\[".
MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
SPACES = re.compile(r"[ \t]+")
# Control and invisible formatting characters (keeping "\n"); a regex is ~50x faster than a loop.
INVISIBLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")


def normalize_text(text: str) -> str:
    """Unescape HTML entities, NFC, typography to ASCII, \\n line ends, no control characters."""
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).translate(TYPOGRAPHIC_TO_ASCII)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return INVISIBLE.sub("", text)


def clean_spoken_line(markdown_line: str) -> str:
    """One spoken line of already normalised Markdown -> plain text (no directions or escapes)."""
    line = markdown_line
    if "[" in line:
        line = INLINE_DIRECTION.sub(" ", line)
    if "\\" in line:
        line = MARKDOWN_ESCAPE.sub(r"\1", line)
    if not line.strip(" *"):  # "* *": a section break, not speech
        return ""
    return " ".join(line.split())
