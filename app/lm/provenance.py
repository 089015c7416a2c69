"""Where a model's training text lives, so generated text can be checked for copies of it."""

import functools

from app.corpus import Corpus, CorpusError, load_corpus, sha256_text
from app.lm.base import ModelInfo
from app.lm.copyguard import CopiedSpan, CopyGuard


class TrainingTextUnavailable(LookupError):
    """The training text of a checkpoint cannot be found again (a moved or edited --text file)."""


@functools.lru_cache(maxsize=4)
def _guard_for(corpus: str, text_path: str, corpus_sha256: str) -> tuple[CopyGuard, Corpus]:
    try:
        source = load_corpus(text_path or None)
        text = source.text("train")
    except CorpusError as error:
        raise TrainingTextUnavailable(str(error)) from None
    if corpus_sha256 and sha256_text(text) != corpus_sha256:
        raise TrainingTextUnavailable(f"the training text of {corpus} has changed since training")
    return CopyGuard(text), source


def copy_guard_for(info: ModelInfo) -> tuple[CopyGuard, Corpus]:
    """The suffix-array guard over a model's training text (built once per corpus per process)."""
    return _guard_for(info.corpus, info.training.get("text_path", ""), info.corpus_sha256)


def describe_copy(info: ModelInfo, generated: str) -> dict:
    """The longest span of `generated` found verbatim in the training text, with its source."""
    guard, source = copy_guard_for(info)
    span: CopiedSpan = guard.longest_copied_span(generated)
    return {
        "length": span.length,
        "text": span.text,
        "generated_start": span.generated_start,
        "source_start": span.source_start,
        "source": source.locate("train", span.source_start) if span.length else None,
    }
