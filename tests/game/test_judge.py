"""app/game/judge.py and app/game/judge_training.py: the machine judge learns real from fake on the
training plays, is measured on the validation plays, saves and loads without pickle, and says
what it thinks of a round."""

import json
import math
import struct

import numpy as np
import pytest

from app.corpus import sample_excerpt
from app.game import make_facing_passage
from app.game.judge import (
    DENSE_NAMES,
    Judge,
    JudgeConfig,
    featurize,
    judged_correctly,
    pair_probability,
    spoken_text,
    verdict,
)
from app.game.judge_training import (
    Example,
    JudgeTraining,
    accuracy_table,
    cross_validated_pair_accuracy,
    grouped_folds,
    pair_accuracy,
    train_judge,
)
from app.game.registry import ModelRegistry
from app.game.rules import pool_keys
from app.lm.checkpoints import CheckpointError
from app.lm.ngram import NGramConfig, NGramModel

SMALL = JudgeConfig(char_buckets=2**12, word_buckets=2**10)


@pytest.fixture(scope="module")
def weak_model(plays_corpus):
    """A char trigram: its fakes are easy to tell, so a judge that learns anything tells them."""
    text = plays_corpus.text("train")[:200_000]
    return NGramModel.train(text, NGramConfig(unit="char", order=3, smoothing="kn"), name="t3")


def pairs(corpus, model, split: str, n: int, seed: int) -> list[Example]:
    examples = []
    for i in range(n * 2):
        excerpt = sample_excerpt(corpus, 350, seed=seed + i, split=split)
        facing = make_facing_passage(
            model, excerpt, temperature=1.0, seed=seed + i, copied_length=lambda text: 0
        )
        if facing is not None:
            examples.append(Example("t3", 1.0, "easy", excerpt.text, facing.text))
        if len(examples) == n:
            break
    return examples


@pytest.fixture(scope="module")
def trained(plays_corpus, weak_model):
    train = pairs(plays_corpus, weak_model, "train", 40, seed=0)
    texts = [t for e in train for t in (e.real, e.generated)]
    judge = Judge.train(texts, [1, 0] * len(train), SMALL)
    return judge, pairs(plays_corpus, weak_model, "val", 20, seed=500)


def test_the_judge_tells_a_weak_models_fakes_from_real_lines_it_never_saw(trained):
    judge, held_out = trained
    assert len(held_out) == 20
    assert pair_accuracy(judge.scores, held_out) >= 0.85
    table = accuracy_table(judge.scores, held_out)
    assert table["pairs"] == 20 and table["by_model"]["t3"]["pairs"] == 20
    assert table["by_difficulty"]["easy"]["accuracy"] == table["accuracy"]


def test_the_judge_reads_the_spoken_lines_not_the_speakers_names():
    a = "ROMEO:\nBut soft, what light?\n\nJULIET:\nAy me!\n"
    b = "TITUS ANDRONICUS:\nBut soft, what light?\n\nFALSTAFF:\nAy me!\n"
    assert spoken_text(a) == spoken_text(b)
    hashed_a, dense_a = featurize([a], SMALL)
    hashed_b, dense_b = featurize([b], SMALL)
    assert np.array_equal(hashed_a, hashed_b) and np.array_equal(dense_a, dense_b)
    assert dense_a.shape == (1, len(DENSE_NAMES)) and hashed_a.shape == (
        1,
        SMALL.width - len(DENSE_NAMES),
    )


def test_a_saved_judge_loads_without_pickle_and_scores_the_same(trained, tmp_path):
    judge, held_out = trained
    path = judge.save(tmp_path / "judge.safetensors")
    raw = path.read_bytes()
    (header_length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_length])  # a safetensors file: JSON, then arrays
    assert header["__metadata__"] and b"pickle" not in raw[:100]
    loaded = Judge.load(path)
    texts = [held_out[0].real, held_out[0].generated]
    assert np.allclose(loaded.scores(texts), judge.scores(texts), atol=1e-5)
    assert loaded.config == judge.config and loaded.info.kind == "judge"


def test_a_model_checkpoint_or_a_judge_of_other_features_is_refused(trained, tmp_path):
    from tests.conftest import SHIPPED_NGRAM

    with pytest.raises(CheckpointError, match="not a judge"):
        Judge.load(SHIPPED_NGRAM)
    judge, _ = trained
    other = Judge(
        JudgeConfig(char_buckets=2**11, word_buckets=2**10),
        judge.weights,  # the width of SMALL, not of this config
        judge.bias,
        judge.dense_mean,
        judge.dense_scale,
    )
    path = other.save(tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError, match="another feature set"):
        Judge.load(path)


def test_pair_probability_is_a_sigmoid_of_the_score_gap():
    assert pair_probability(2.0, 2.0) == 0.5
    assert pair_probability(3.0, 1.0) == pytest.approx(1 / (1 + math.exp(-2)))
    assert pair_probability(1.0, 3.0) == pytest.approx(1 - pair_probability(3.0, 1.0))


def test_the_verdict_names_the_passage_the_judge_thought_real():
    said = verdict("pair", ["generated", "real"], real_score=2.0, generated_score=0.5)
    assert said["pick"] == 1 and said["correct"] is True
    assert said["confidence"] == pytest.approx(1 / (1 + math.exp(-1.5)), abs=1e-3)
    assert "passage 2 was real" in said["says"]
    fooled = verdict("pair", ["real", "generated"], real_score=-1.0, generated_score=1.0)
    assert fooled["pick"] == 1 and fooled["correct"] is False
    single = verdict("single", ["generated"], real_score=0.0, generated_score=-2.0)
    assert single["pick"] == "generated" and single["correct"] is True
    assert "this passage was generated" in single["says"]
    assert verdict("pair", ["real", "generated"], None, None) is None
    assert judged_correctly("pair", ["real", "generated"], 1.0, 0.0) is True
    assert judged_correctly("single", ["real"], None, None) is None


def test_grouped_folds_keep_each_pair_in_one_fold():
    folds = grouped_folds(23, 5, seed=1)
    together = np.concatenate(folds)
    assert sorted(together.tolist()) == list(range(23)) and len(folds) == 5


def test_cross_validation_finds_the_weak_models_fakes(plays_corpus, weak_model):
    examples = pairs(plays_corpus, weak_model, "train", 30, seed=900)
    accuracy, verdicts = cross_validated_pair_accuracy(examples, SMALL, folds=3)
    assert len(verdicts) == 30 and accuracy >= 0.8
    # texts that are the same on both sides of every pair cannot be told apart
    same = [Example("t3", 1.0, "easy", e.real, e.real) for e in examples]
    assert cross_validated_pair_accuracy(same, SMALL, folds=3)[0] == 0.0  # ties are no call


def test_train_judge_measures_it_on_the_validation_plays_by_model_and_difficulty(
    plays_corpus, settings_factory, ngram_models_dir, tmp_path
):
    models = ModelRegistry.load(settings_factory(tmp_path, ngram_models_dir))
    keys = pool_keys(models.in_game())
    training = JudgeTraining(per_key=6, val_per_key=3, candidates=2, config=SMALL)
    from app.lm.constraints import training_lexicon

    lines = []
    judge = train_judge(
        models, plays_corpus, keys, training, training_lexicon(plays_corpus), lines.append
    )
    figures = judge.info.figures
    assert figures["held_out"]["pairs"] == 3 * len(keys)
    assert set(figures["held_out"]["by_model"]) == {"char-7gram-kn"}
    assert set(figures["by_difficulty"]) == {"easy", "medium"}  # the 7-gram's two levels
    assert judge.info.training["train_pairs"] == 6 * len(keys)
    assert judge.info.training["against"]["char-7gram-kn"] == models["char-7gram-kn"].sha256
    assert any("pairs from the val plays" in line for line in lines)
    reloaded = Judge.load(judge.save(tmp_path / "j.safetensors"))
    assert reloaded.info.figures == json.loads(json.dumps(figures))


def with_levels(judge: Judge, easy: float, medium: float, hard: float) -> Judge:
    judge.info.figures = {
        "held_out": {
            "pairs": 30,
            "accuracy": 0.8,
            "by_model": {"t3": {"pairs": 30, "accuracy": 0.8}},
            "by_difficulty": {"easy": {"pairs": 10, "accuracy": easy}},
        },
        "hard_best_of": {"pairs": 10, "accuracy": hard, "candidates": 4},
        "by_difficulty": {
            "hard": {"pairs": 10, "accuracy": hard},
            "medium": {"pairs": 10, "accuracy": medium},
            "easy": {"pairs": 10, "accuracy": easy},
        },
    }
    return judge


def test_the_judge_describes_its_levels_easiest_first_and_whether_they_are_in_order(trained):
    judge, _ = trained
    described = with_levels(judge, 0.95, 0.85, 0.7).describe()
    assert [row["key"] for row in described["by_difficulty"]] == ["easy", "medium", "hard"]
    assert [row["accuracy"] for row in described["by_difficulty"]] == [0.95, 0.85, 0.7]
    assert described["by_model"] == [{"key": "t3", "pairs": 30, "accuracy": 0.8}]
    assert described["candidates"] == 4 and described["levels_ordered"] is True
    assert with_levels(judge, 0.85, 0.9, 0.7).describe()["levels_ordered"] is False


def test_the_shipped_judge_finds_easy_the_most_tellable_level_and_hard_the_least():
    """The presets (app/game/rules.py) are chosen by these measured figures: a retrained judge
    that no longer orders them calls for new presets."""
    from app.config import PROJECT_ROOT

    shipped = Judge.load(PROJECT_ROOT / "models" / "judge" / "judge.safetensors")
    described = shipped.describe()
    assert [row["key"] for row in described["by_difficulty"]] == ["easy", "medium", "hard"]
    assert described["levels_ordered"], described["by_difficulty"]
