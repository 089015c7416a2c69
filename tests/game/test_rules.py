"""Difficulty presets map to (model, temperature) pool keys, whatever models are loaded."""

from app.game import PoolKey, keys_for, pool_keys
from app.game.passages import Writing
from app.game.rules import difficulty_of, writing_for
from app.lm.base import ModelInfo


def info(name: str, kind: str) -> ModelInfo:
    return ModelInfo(
        name=name,
        kind=kind,
        unit="char",
        parameters={},
        corpus="shakespeare-plays",
        corpus_sha256="",
    )


MODELS = [info("kn7", "ngram"), info("lstm", "rnn")]


def test_every_model_is_kept_ready_at_its_kinds_temperatures():
    assert pool_keys(MODELS) == [
        PoolKey("kn7", 0.8),
        PoolKey("kn7", 1.0),
        PoolKey("lstm", 0.75),
        PoolKey("lstm", 1.0),
    ]


def test_presets_go_from_cool_ngrams_to_cool_rnns():
    assert keys_for("easy", MODELS) == [PoolKey("kn7", 0.8)]
    assert keys_for("medium", MODELS) == [PoolKey("kn7", 1.0), PoolKey("lstm", 1.0)]
    assert keys_for("hard", MODELS) == [PoolKey("lstm", 0.75)]
    assert keys_for("mixed", MODELS) == pool_keys(MODELS)


def test_a_model_narrows_the_preset_and_a_missing_kind_falls_back():
    assert keys_for("hard", MODELS, model="lstm") == [PoolKey("lstm", 0.75)]
    assert keys_for("hard", MODELS, model="kn7") == pool_keys(MODELS[:1])  # no RNN: all of kn7
    assert keys_for("hard", MODELS[:1]) == pool_keys(MODELS[:1])


def test_the_lexicon_is_on_at_medium_and_hard_and_best_of_n_only_at_hard():
    assert writing_for("ngram", 0.8, 8) == Writing(lexicon=False, candidates=1)  # easy
    assert writing_for("ngram", 1.0, 8) == Writing(lexicon=True, candidates=1)  # medium
    assert writing_for("rnn", 1.0, 8) == Writing(lexicon=True, candidates=1)  # medium
    assert writing_for("rnn", 0.75, 8) == Writing(lexicon=True, candidates=8)  # hard
    assert writing_for("rnn", 0.75) == Writing(lexicon=True, candidates=1)
    assert difficulty_of("rnn", 0.5) == "easy"  # a key in no preset
