"""app/lm/checkpoints.py: safetensors checkpoints that describe themselves and never unpickle."""

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from app.lm.checkpoints import (
    FORMAT_VERSION,
    METADATA_KEY,
    CheckpointError,
    find_checkpoints,
    load_checkpoint,
    read_header,
    resolve_checkpoint,
    save_checkpoint,
)
from app.lm.ngram import NGramConfig, NGramModel, arrays_of, save_ngram
from app.lm.sampling import SamplingParams

TEXT = (
    "ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet "
    "is the sun.\n\nJULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father and "
    "refuse thy name.\n\nROMEO:\nShall I hear more, or shall I speak at this?\n\n"
) * 3
PROBE = "JULIET:\nO Romeo, what light! Zounds, é and ~ unseen.\n"


def trained(unit: str = "char", order: int = 4, smoothing: str = "kn") -> NGramModel:
    m = NGramModel.train(
        TEXT,
        NGramConfig(unit=unit, order=order, smoothing=smoothing, min_word_count=1),
        name="tiny",
        corpus="text:tiny.txt",
        corpus_sha256="ab" * 32,
    )
    m.info.figures = {"val_bits_per_char": 2.5}
    m.info.training["command"] = "realornn train ngram --out tiny"
    return m


def raw_header(path: Path) -> dict:
    """The safetensors header, read by hand: 8-byte little-endian length, then JSON."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length])


def write_with_metadata(path: Path, metadata: dict[str, str], arrays=None) -> Path:
    save_file(arrays or {"x": np.zeros(3, dtype=np.uint8)}, str(path), metadata=metadata)
    return path


def header_of(model: NGramModel) -> dict:
    info = {
        "name": model.info.name,
        "kind": model.info.kind,
        "unit": model.info.unit,
        "parameters": model.info.parameters,
        "corpus": model.info.corpus,
        "corpus_sha256": model.info.corpus_sha256,
        "figures": model.info.figures,
        "training": model.info.training,
    }
    return {"format_version": FORMAT_VERSION, "info": info, "vocabulary": model.vocabulary}


# -- round trip ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "order", "smoothing"),
    [("char", 4, "kn"), ("char", 1, "kn"), ("char", 3, "wb"), ("word", 3, "kn"),
     ("word", 2, "addk"), ("char", 2, "mle"), ("char", 3, "stupid")],
)  # fmt: skip
def test_save_then_load_gives_the_same_model(
    tmp_path: Path, unit: str, order: int, smoothing: str
) -> None:
    model = trained(unit, order, smoothing)
    path = save_ngram(model, tmp_path / "tiny")
    assert path == tmp_path / "tiny.safetensors"
    loaded = load_checkpoint(path)
    assert isinstance(loaded, NGramModel)
    assert loaded.vocabulary == model.vocabulary
    assert loaded.config == model.config
    for field in ("name", "kind", "unit", "parameters", "corpus", "corpus_sha256", "figures"):
        assert getattr(loaded.info, field) == getattr(model.info, field), field
    assert loaded.info.training == model.info.training
    assert loaded.info.path == str(path)
    assert loaded.info.file_bytes == path.stat().st_size > 0
    for context in ["", "R", "ROMEO:\n", "Zé", PROBE]:
        ids = list(model.encode(context)[1])
        np.testing.assert_array_equal(loaded.distribution(ids), model.distribution(ids))
    if smoothing != "stupid":
        _, ids = model.encode(PROBE)
        np.testing.assert_array_equal(
            loaded.token_probabilities(ids), model.token_probabilities(ids)
        )
    for name, array in arrays_of(model).items():
        assert name in {"top_counts", "tail"} or name.startswith("order")
        assert array.dtype.kind in "ui"
    params = SamplingParams(length=80, seed=4, prime="ROMEO:\n")
    assert loaded.sample(params)[0].text == model.sample(params)[0].text


def test_the_file_is_real_safetensors_with_our_metadata_in_its_header(tmp_path: Path) -> None:
    model = trained()
    path = save_ngram(model, tmp_path / "tiny.safetensors")
    header = raw_header(path)
    ours = json.loads(header["__metadata__"][METADATA_KEY])
    assert ours == header_of(model)
    assert "path" not in ours["info"] and "file_bytes" not in ours["info"]
    tensors = {name for name in header if name != "__metadata__"}
    assert tensors == set(arrays_of(model))
    assert header["top_counts"]["dtype"] in {"U8", "U16", "U32", "I64"}
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, no leftovers


def test_read_header_reads_metadata_without_the_arrays(tmp_path: Path) -> None:
    model = trained("word", 2)
    path = save_ngram(model, tmp_path / "w")
    info, vocabulary = read_header(path)
    assert vocabulary == model.vocabulary
    assert (info.name, info.kind, info.unit) == ("tiny", "ngram", "word")
    assert info.parameters["order"] == 2 and info.parameters["vocabulary_size"] == len(vocabulary)


def test_saving_creates_folders_and_adds_the_suffix_only_when_missing(tmp_path: Path) -> None:
    model = trained(order=2)
    assert save_ngram(model, tmp_path / "a" / "b" / "m") == tmp_path / "a/b/m.safetensors"
    assert save_ngram(model, tmp_path / "m.safetensors") == tmp_path / "m.safetensors"
    assert save_ngram(model, tmp_path / "m.v2") == tmp_path / "m.v2.safetensors"


def test_an_unknown_info_field_in_a_newer_checkpoint_is_ignored(tmp_path: Path) -> None:
    model = trained()
    header = header_of(model)
    header["info"]["future_field"] = 1
    path = write_with_metadata(
        tmp_path / "m.safetensors", {METADATA_KEY: json.dumps(header)}, arrays_of(model)
    )
    loaded = load_checkpoint(path)
    assert loaded.info.name == "tiny" and not hasattr(loaded.info, "future_field")


# -- files that are not our checkpoints ---------------------------------------------------------
class _Booby:
    """Unpickling this creates a file: proof that loading never unpickles."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def assert_rejected(path: Path, *fragments: str) -> None:
    for function in (load_checkpoint, read_header):
        with pytest.raises(CheckpointError) as raised:
            function(path)
        message = str(raised.value)
        assert message.startswith(str(path)), message
        for fragment in fragments:
            assert fragment in message, message


def test_a_pickle_is_rejected_without_being_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"weights": _Booby(marker)}))
    assert_rejected(path, "not a readable safetensors checkpoint")
    assert not marker.exists()


def test_a_zip_like_torch_checkpoint_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"PK\x03\x04" + pickle.dumps([1, 2, 3]) * 10)
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_random_bytes_are_rejected(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for i, size in enumerate((0, 3, 8, 100, 5000)):
        path = tmp_path / f"garbage{i}.safetensors"
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        assert_rejected(path)


def test_text_garbage_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    path.write_text("this is not a checkpoint\n" * 20)
    assert_rejected(path, "not a readable safetensors checkpoint")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_truncated_checkpoint_is_rejected(tmp_path: Path, keep: float) -> None:
    path = save_ngram(trained(), tmp_path / "whole")
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError) as raised:
        load_checkpoint(cut)
    assert str(raised.value).startswith(str(cut))


def test_a_safetensors_file_without_our_metadata_is_rejected(tmp_path: Path) -> None:
    assert_rejected(write_with_metadata(tmp_path / "a.safetensors", {}), "not a Real or RNN?")
    other = write_with_metadata(tmp_path / "b.safetensors", {"format": "pt"})
    assert_rejected(other, "not a Real or RNN? checkpoint")
    bare = tmp_path / "c.safetensors"
    save_file({"x": np.zeros(2, dtype=np.float32)}, str(bare))
    assert_rejected(bare, "not a Real or RNN? checkpoint")


@pytest.mark.parametrize(
    "metadata",
    [
        "not json {",
        "[]",
        "42",
        "null",
        '"a string"',
        json.dumps({"format_version": FORMAT_VERSION}),
        json.dumps({"format_version": FORMAT_VERSION, "info": {}, "vocabulary": []}),
        json.dumps({"format_version": FORMAT_VERSION, "info": [], "vocabulary": []}),
        json.dumps({"format_version": FORMAT_VERSION, "info": "ngram", "vocabulary": ["a"]}),
        json.dumps({"format_version": FORMAT_VERSION, "info": {"name": "x"}, "vocabulary": 5}),
    ],
)
def test_bad_metadata_is_rejected_naming_the_path(tmp_path: Path, metadata: str) -> None:
    path = write_with_metadata(tmp_path / "bad.safetensors", {METADATA_KEY: metadata})
    assert_rejected(path)


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_an_unsupported_format_version_is_rejected(tmp_path: Path, version) -> None:
    header = header_of(trained()) | {"format_version": version}
    path = write_with_metadata(tmp_path / "v.safetensors", {METADATA_KEY: json.dumps(header)})
    assert_rejected(path, f"unsupported checkpoint format {version!r}")


def test_an_unknown_model_kind_is_rejected(tmp_path: Path) -> None:
    header = header_of(trained())
    header["info"]["kind"] = "transformer"
    path = write_with_metadata(tmp_path / "k.safetensors", {METADATA_KEY: json.dumps(header)})
    with pytest.raises(CheckpointError, match="unknown model kind 'transformer'") as raised:
        load_checkpoint(path)
    assert str(raised.value).startswith(str(path))


def test_a_checkpoint_missing_an_array_is_rejected(tmp_path: Path) -> None:
    model = trained()
    arrays = arrays_of(model)
    del arrays["order2.tokens"]
    path = save_checkpoint(tmp_path / "m", arrays, model.info, model.vocabulary)
    with pytest.raises(CheckpointError, match="order2.tokens") as raised:
        load_checkpoint(path)
    assert str(raised.value).startswith(str(path))


def test_a_checkpoint_with_inconsistent_arrays_is_rejected(tmp_path: Path) -> None:
    model = trained()
    arrays = arrays_of(model)
    arrays["order3.children"] = arrays["order3.children"][:-5]
    path = save_checkpoint(tmp_path / "m", arrays, model.info, model.vocabulary)
    with pytest.raises(CheckpointError, match="corrupt checkpoint") as raised:
        load_checkpoint(path)
    assert str(raised.value).startswith(str(path))


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("parameters", {"order": 4, "smoothing": "bogus", "add_k": 0.01, "min_word_count": 2},
         "smoothing must be one of"),
        ("parameters", {"order": 99, "smoothing": "kn", "add_k": 0.01, "min_word_count": 2},
         "corrupt checkpoint"),
        ("parameters", {"smoothing": "kn"}, "corrupt checkpoint"),
        ("parameters", "order=4", "corrupt checkpoint"),
        ("parameters", None, "corrupt checkpoint"),
        ("unit", "byte", "unit must be"),
        ("vocabulary", ["a", "b"], "corrupt checkpoint"),
        ("vocabulary", [1, 2, 3], "corrupt checkpoint"),
    ],
)  # fmt: skip
def test_metadata_that_does_not_fit_the_arrays_is_rejected(
    tmp_path: Path, field: str, value, fragment: str
) -> None:
    model = trained()
    header = header_of(model)
    if field == "vocabulary":
        header["vocabulary"] = value
    else:
        header["info"][field] = value
    path = write_with_metadata(
        tmp_path / "p.safetensors", {METADATA_KEY: json.dumps(header)}, arrays_of(model)
    )
    with pytest.raises(CheckpointError, match=fragment) as raised:
        load_checkpoint(path)
    assert str(raised.value).startswith(str(path))


def test_a_missing_checkpoint_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.safetensors"
    assert_rejected(path, "no such checkpoint")


# -- finding checkpoints -------------------------------------------------------------------------
def test_resolve_finds_a_model_by_name_by_file_name_and_by_path(tmp_path: Path) -> None:
    path = save_ngram(trained(order=2), tmp_path / "char-2gram-kn")
    assert resolve_checkpoint("char-2gram-kn", tmp_path) == path
    assert resolve_checkpoint("char-2gram-kn.safetensors", tmp_path) == path
    assert resolve_checkpoint(str(path), tmp_path / "elsewhere") == path
    assert resolve_checkpoint(str(path.with_suffix("")), tmp_path / "elsewhere") == path


def test_resolve_lists_the_available_models_for_an_unknown_name(tmp_path: Path) -> None:
    save_ngram(trained(order=2), tmp_path / "beta")
    save_ngram(trained(order=2), tmp_path / "alpha")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(CheckpointError, match="unknown model 'gamma'") as raised:
        resolve_checkpoint("gamma", tmp_path)
    assert f"models in {tmp_path}: alpha, beta" in str(raised.value)
    with pytest.raises(CheckpointError, match="none"):
        resolve_checkpoint("gamma", tmp_path / "empty")


def test_resolve_ignores_folders(tmp_path: Path) -> None:
    (tmp_path / "folder.safetensors").mkdir()
    with pytest.raises(CheckpointError, match="unknown model 'folder'"):
        resolve_checkpoint("folder", tmp_path)


def test_find_checkpoints_lists_safetensors_files_in_order(tmp_path: Path) -> None:
    for name in ("b", "a", "c"):
        save_ngram(trained(order=1), tmp_path / name)
    (tmp_path / "readme.md").write_text("hi")
    assert [p.name for p in find_checkpoints(tmp_path)] == [
        "a.safetensors",
        "b.safetensors",
        "c.safetensors",
    ]
    assert find_checkpoints(tmp_path / "missing") == []
