"""app/game/registry.py: checkpoints that fail are skipped, a model whose training text is gone is
loaded but kept out of the game, and the registry's choices (heatmap, sampling, unknown names)."""

import logging

import pytest
from fastapi.testclient import TestClient

from app.game.registry import LoadedModel, ModelRegistry, UnknownModel
from app.lm.ngram import NGramConfig, NGramModel
from app.web.main import create_app
from tests.playing import folder_with


def test_a_corrupt_checkpoint_is_logged_and_skipped(
    tmp_path, caplog, shipped_ngram, settings_factory
):
    models = folder_with(tmp_path / "models", shipped_ngram)
    broken = models / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header")
    with (
        caplog.at_level(logging.WARNING),
        TestClient(create_app(settings_factory(tmp_path / "data", models))) as client,
    ):
        assert client.get("/healthz").json()["models"] == 1
    assert any(str(broken) in r.getMessage() for r in caplog.records)


def test_a_model_whose_training_text_is_gone_is_loaded_but_kept_out_of_the_game(
    tmp_path, shipped_ngram, settings_factory, plays_corpus
):
    from app.cli import main

    models = folder_with(tmp_path / "models", shipped_ngram)
    text = tmp_path / "notes.txt"
    text.write_text(plays_corpus.text("val")[:4000], encoding="utf-8")
    command = ["train", "ngram", "--text", str(text), "--order", "3", "--out", str(models / "own")]
    assert main(["--models-dir", str(models), *command]) == 0
    text.unlink()  # copies can no longer be checked: it must not write for the game
    settings = settings_factory(tmp_path / "data", models, pool_refill="off")
    with TestClient(create_app(settings)) as client:
        in_game = {m["name"]: m["in_game"] for m in client.get("/api/models").json()["models"]}
        how = client.get("/how").text
        playable = client.get("/").text
        explorable = client.get("/explore").text
    assert in_game == {"char-7gram-kn": True, "own": False}
    row = how[how.index("<code>own</code>") :].split("</th>", 1)[0]
    assert "explorer only" in row  # the How page says why it is not in the game
    assert "explorer only" not in how[how.index("<code>char-7gram-kn</code>") :].split("</th>")[0]
    assert 'value="own"' not in playable  # and the game does not offer it,
    assert 'value="own"' in explorable  # while the explorer does


def tiny_model(name: str, test_bits: float | None, guarded: bool = True) -> LoadedModel:
    generator = NGramModel.train(
        "to be or not to be, that is the question\n" * 5, NGramConfig(order=3), name=name
    )
    if test_bits is not None:
        generator.info.figures["test_bits_per_char"] = test_bits
    return LoadedModel(generator, sha256="0" * 64, guarded=guarded)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    models = {
        "good": tiny_model("good", 2.0),
        "better": tiny_model("better", 1.5),
        "unchecked": tiny_model("unchecked", 1.0, guarded=False),
    }
    return ModelRegistry(models, sample="good")


def test_the_registry_is_a_read_only_mapping_of_the_loaded_models(registry):
    assert list(registry) == ["good", "better", "unchecked"] and len(registry) == 3
    assert registry["better"].info.name == "better" and "nope" not in registry
    assert [row["name"] for row in registry.describe()] == ["good", "better", "unchecked"]
    assert [row["in_game"] for row in registry.describe()] == [True, True, False]


def test_only_models_whose_copies_can_be_checked_are_in_the_game(registry):
    assert [info.name for info in registry.in_game()] == ["good", "better"]


def test_the_heatmap_model_is_the_preferred_one_else_the_best_on_the_test_plays(registry):
    assert registry.heatmap is registry["unchecked"]  # no RNN here: the lowest test bits
    chosen = ModelRegistry(dict(registry.items()), heatmap="good")
    assert chosen.heatmap is chosen["good"]
    missing = ModelRegistry(dict(registry.items()), heatmap="no such model")
    assert missing.heatmap is missing["unchecked"]


def test_sampling_takes_the_named_model_else_the_sample_setting_else_the_default(registry):
    assert registry.for_sampling("better") is registry["better"]
    assert registry.for_sampling() is registry["good"]  # the sample setting
    unset = ModelRegistry(dict(registry.items()), sample="not loaded")
    assert unset.for_sampling() is unset.default() is unset.heatmap


def test_an_unknown_model_is_refused_naming_the_field_and_the_loaded_ones(registry):
    registry.require(None)  # any model will do
    registry.require("good")
    with pytest.raises(UnknownModel, match=r"model: no model 'nope' \(loaded: good, better"):
        registry.require("nope")
    with pytest.raises(UnknownModel):
        registry.for_sampling("nope")
