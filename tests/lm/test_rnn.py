"""app/lm/rnn.py: the character RNNs, their generator interface and their checkpoints.

Tiny networks with random weights (hidden 16): shapes, the lecture's formula, sampling, scoring and
the round trip through a safetensors checkpoint.
"""

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.lm import rnn
from app.lm.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from app.lm.ngram import BASE_CHARACTERS, UNKNOWN
from app.lm.rnn import (
    CELLS,
    START,
    CharRNN,
    ElmanLayer,
    RNNConfig,
    RNNError,
    RNNModel,
    arrays_of,
    char_vocabulary,
    save_rnn,
)
from app.lm.sampling import SamplingParams

torch.set_num_threads(1)  # tiny tensors; and a benchmark may own the other core

TEXT = "ROMEO:\nBut soft, what light through yonder window breaks?\n\n"


def tiny_model(cell: str = "lstm", layers: int = 2, seed: int = 0, **overrides) -> RNNModel:
    torch.manual_seed(seed)
    sizes = {"embedding_size": 8, "hidden_size": 16, "layers": layers}
    config = RNNConfig(cell=cell, **(sizes | overrides))
    return RNNModel.create(config, char_vocabulary(TEXT + "é"), name=f"tiny-{cell}")


# -- the network -------------------------------------------------------------------------------
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_forward_shapes(cell: str, layers: int) -> None:
    V, B, T, H = 30, 3, 5, 16
    network = CharRNN(RNNConfig(cell=cell, embedding_size=8, hidden_size=H, layers=layers), V)
    logits, hidden = network(torch.randint(0, V, (B, T)))
    assert logits.shape == (B, T, V)
    states = hidden if cell == "lstm" else (hidden,)
    assert len(states) == (2 if cell == "lstm" else 1)
    for h in states:
        assert h.shape == (layers, B, H)
    logits2, _ = network(torch.randint(0, V, (B, 1)), hidden)  # the state carries on
    assert logits2.shape == (B, 1, V)


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_an_elman_step_is_the_lectures_formula(nonlinearity: str) -> None:
    torch.manual_seed(1)
    layer = ElmanLayer(input_size=4, hidden_size=3, nonlinearity=nonlinearity)
    x = torch.randn(2, 5, 4)  # (B, T, I)
    h0 = torch.randn(2, 3)  # (B, H)
    outputs, last = layer(x, h0)
    f = torch.sigmoid if nonlinearity == "sigmoid" else torch.tanh
    h = h0
    for t in range(5):
        h = f(x[:, t] @ layer.W_xh.T + h @ layer.W_hh.T + layer.b_h)  # by hand
        torch.testing.assert_close(outputs[:, t], h, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(last, h)


def test_an_elman_network_in_numpy_from_the_checkpoint_names_gives_the_same_logits() -> None:
    """The documented names are enough to re-implement the model in numpy (float64)."""
    model = tiny_model("elman", layers=2, dropout=0.0)
    w = {k: v.astype(np.float64) for k, v in arrays_of(model.network, "float32").items()}
    assert set(w) == {
        "embedding.weight", "W_hy", "b_y",
        *(f"rnn.layers.{i}.{n}" for i in (0, 1) for n in ("W_xh", "W_hh", "b_h")),
    }  # fmt: skip
    ids = model.encode(START + "But soft")
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = [np.zeros(16), np.zeros(16)]
    expected = []
    for token in ids:
        x = w["embedding.weight"][token]
        for i in (0, 1):
            p = f"rnn.layers.{i}."
            h[i] = sigmoid(w[p + "W_xh"] @ x + w[p + "W_hh"] @ h[i] + w[p + "b_h"])
            x = h[i]
        expected.append(w["W_hy"] @ x + w["b_y"])
    logits, _ = model.network(torch.as_tensor(ids)[None, :])
    np.testing.assert_allclose(logits[0].detach().numpy(), np.array(expected), atol=1e-5)


def test_tied_weights_share_one_matrix_and_are_stored_once() -> None:
    model = tiny_model("gru", tie_weights=True, embedding_size=16)
    assert model.network.W_hy is model.network.embedding.weight
    assert "W_hy" not in arrays_of(model.network)
    with pytest.raises(RNNError, match="embedding size == hidden size"):
        RNNConfig(embedding_size=8, hidden_size=16, tie_weights=True).validated()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hidden_size": 0}, "hidden_size must be between"),
        ({"layers": 0}, "layers must be between"),
        ({"cell": "transformer"}, "cell must be one of"),
        ({"nonlinearity": "relu"}, "nonlinearity must be"),
        ({"dropout": 1.5}, "dropout must be in"),
        ({"dropout": -0.1}, "dropout must be in"),
    ],
)
def test_bad_architectures_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(RNNError, match=message):
        RNNConfig(**overrides).validated()


def test_the_vocabulary_is_the_ngram_char_convention() -> None:
    vocabulary = char_vocabulary("abcé")
    assert vocabulary[0] == UNKNOWN
    assert set(BASE_CHARACTERS) | {"é"} == set(vocabulary[1:])


# -- sampling ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_sampling_is_deterministic_per_seed_and_batch_passages_equal_lone_ones(cell: str) -> None:
    model = tiny_model(cell)
    params = SamplingParams(length=120, temperature=0.9, top_k=20, prime="ROMEO:\n", seed=7)
    batch = model.sample(params, count=4)
    assert [p.seed for p in batch] == [7, 8, 9, 10]
    assert model.sample(params, count=4) == batch
    for i, passage in enumerate(batch):
        assert passage.text.startswith("ROMEO:\n")
        assert len(passage.text) == len("ROMEO:\n") + 120
        # A batch row and a lone passage run the same float32 arithmetic row for row, so the
        # probabilities agree to the last bit or nearly; a roll could only differ if a uniform
        # fell within ~1e-7 of a cumulative boundary. Exact equality is asserted and holds.
        alone = model.sample(SamplingParams(**{**params.__dict__, "seed": 7 + i}))[0]
        assert alone.text == passage.text
    assert len({p.text for p in batch}) == 4


def test_stream_joins_to_the_sample() -> None:
    model = tiny_model("gru")
    params = SamplingParams(length=80, top_p=0.9, prime="JULIET:\n", seed=3)
    pieces = list(model.stream(params))
    assert pieces[0] == "JULIET:\n" and all(len(p) == 1 for p in pieces[1:])
    assert "".join(pieces) == model.sample(params)[0].text


def test_the_unknown_token_is_never_sampled() -> None:
    model = tiny_model("lstm")
    with torch.no_grad():
        model.network.b_y[model.unknown_id] = 30.0  # <unk> would win almost every roll
    text = model.sample(SamplingParams(length=200, temperature=2.0, seed=1))[0].text
    assert UNKNOWN not in text and len(text) == 200


def test_next_probabilities_are_float64_rows_that_sum_to_one() -> None:
    model = tiny_model("elman")
    state = model.begin("But", 3)
    p = model.next_probabilities(state)
    assert p.shape == (3, len(model.vocabulary)) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p[0], p[2])  # the same prime, the same die
    state = model.advance(state, np.array([1, 2, 3]))
    p = model.next_probabilities(state)
    assert not np.array_equal(p[0], p[1])
    distribution = model.next_token_distribution("But")
    assert math.isclose(sum(distribution.values()), 1.0)


# -- scoring -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_surprisal_is_the_log_softmax_of_the_network(cell: str) -> None:
    model = tiny_model(cell)
    text = TEXT * 2
    ids = torch.as_tensor(model.encode(START + text))
    with torch.no_grad():
        logits, _ = model.network(ids[None, :-1])
    expected = -F.log_softmax(logits[0].double(), dim=-1)[torch.arange(len(text)), ids[1:]]
    surprisal = model.surprisal(text)
    assert surprisal.tokens == list(text)
    np.testing.assert_allclose(surprisal.bits, expected.numpy() / math.log(2), rtol=1e-5)
    assert math.isclose(model.bits_per_char(text), surprisal.total_bits / len(text))


def test_scoring_in_chunks_carries_the_hidden_state(monkeypatch) -> None:
    model = tiny_model("lstm")
    whole = model.surprisal(TEXT * 3).bits
    monkeypatch.setattr(rnn, "SCORING_CHUNK", 7)
    np.testing.assert_allclose(model.surprisal(TEXT * 3).bits, whole, rtol=1e-5, atol=1e-6)


def test_any_text_gets_finite_bits_and_an_empty_one_is_refused() -> None:
    model = tiny_model("gru")
    bits = model.surprisal("Ünïcödé ☃ and\ttabs").bits
    assert np.isfinite(bits).all() and (bits > 0).all()
    with pytest.raises(RNNError, match="empty"):
        model.surprisal("")


# -- checkpoints -------------------------------------------------------------------------------
def safetensors_header(path: Path) -> dict:
    """Parse the file as safetensors by hand: 8-byte length, JSON header, raw little-endian data.
    A pickle (or a torch zip) cannot pass this."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    assert 8 + length + end == len(data)
    return header


@pytest.mark.parametrize(
    "weights_dtype, disk_dtype, atol",
    [("float16", "F16", 2e-3), ("bfloat16", "U16", 2e-2), ("float32", "F32", 1e-7)],
)
@pytest.mark.parametrize("cell", CELLS)
def test_checkpoint_round_trip(
    tmp_path: Path, cell: str, weights_dtype: str, disk_dtype: str, atol: float
) -> None:
    model = tiny_model(cell, tie_weights=cell == "gru", embedding_size=16)
    model.info.figures = {"val_bits_per_char": 4.2}
    path = save_rnn(model, tmp_path / "tiny", weights_dtype)
    assert path.name == "tiny.safetensors"
    header = safetensors_header(path)
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {disk_dtype}
    loaded = load_checkpoint(path)
    assert isinstance(loaded, RNNModel)
    assert all(p.dtype == torch.float32 for p in loaded.network.parameters())
    assert not loaded.network.training
    assert loaded.info.kind == "rnn" and loaded.info.figures == {"val_bits_per_char": 4.2}
    assert loaded.info.training["weights_dtype"] == weights_dtype
    assert loaded.vocabulary == model.vocabulary and loaded.config == model.config
    for prime in ("", "ROMEO:\nBut"):
        np.testing.assert_allclose(
            loaded.next_probabilities(loaded.begin(prime, 1)),
            model.next_probabilities(model.begin(prime, 1)),
            atol=atol,
        )
    params = SamplingParams(length=50, seed=5)
    assert loaded.sample(params)[0].text == load_checkpoint(path).sample(params)[0].text


def test_weights_that_do_not_fit_the_architecture_are_a_checkpoint_error(tmp_path: Path) -> None:
    model = tiny_model("lstm")
    arrays = arrays_of(model.network)
    arrays.pop("b_y")
    path = save_checkpoint(tmp_path / "broken", arrays, model.info, model.vocabulary)
    with pytest.raises(CheckpointError, match="corrupt checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("cell", CELLS)
def test_the_sampling_step_computes_what_the_network_computes(cell: str, layers: int) -> None:
    """OneStep (sampling's fast inner loop) equals one time step of the network in eval mode."""
    model = tiny_model(cell, layers=layers, nonlinearity="tanh" if cell == "elman" else "sigmoid")
    state = model.begin("ROMEO:\n", 3)
    tokens = torch.tensor([1, 5, 9])
    with torch.no_grad():
        expected_logits, expected_hidden = model.network(tokens[:, None], state.hidden)
        logits, hidden = rnn.OneStep(model.network)(tokens, state.hidden)
    torch.testing.assert_close(logits, expected_logits[:, 0], rtol=1e-5, atol=1e-6)
    pairs = (
        zip(hidden, expected_hidden, strict=True) if cell == "lstm" else [(hidden, expected_hidden)]
    )
    for got, want in pairs:
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def tensors(hidden: rnn.Hidden) -> tuple[torch.Tensor, ...]:
    """The hidden state's tensors: (h,), or the LSTM's (h, c)."""
    return hidden if isinstance(hidden, tuple) else (hidden,)


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("cell", CELLS)
def test_a_chain_of_advances_computes_what_the_network_computes(cell: str, count: int) -> None:
    """advance() steps in place in its Workspace (one passage reads a row of the input table, a
    batch gathers rows); 30 steps of it equal one pass of the network over the same text."""
    model = tiny_model(cell, layers=2)
    ids = np.stack([model.encode((TEXT * 2)[i : i + 30]) for i in range(count)])  # (K, 30)
    state = model.begin("ROMEO:\n", count)
    for t in range(ids.shape[1]):
        state = model.advance(state, ids[:, t])
    prime = torch.as_tensor(model.encode(START + "ROMEO:\n")).expand(count, -1)
    with torch.no_grad():
        logits, hidden = model.network(torch.cat([prime, torch.as_tensor(ids)], dim=1))
    torch.testing.assert_close(state.logits, logits[:, -1], rtol=1e-5, atol=1e-5)
    for got, want in zip(tensors(state.hidden), tensors(hidden), strict=True):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_advance_leaves_earlier_states_as_they_were(cell: str) -> None:
    """The Workspace is overwritten on every step, but each state keeps its own copy of the
    hidden state: an earlier state reads the same afterwards and can be advanced again."""
    model = tiny_model(cell)

    def copies(state: rnn.RNNState) -> list[torch.Tensor]:
        return [t.clone() for t in (state.logits, *tensors(state.hidden))]

    first = model.advance(model.begin("ROMEO:\n", 2), np.array([3, 4]))
    kept = copies(first)
    second = model.advance(first, np.array([5, 6]))
    model.advance(second, np.array([7, 8]))
    for got, want in zip(copies(first), kept, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    again = model.advance(first, np.array([5, 6]))  # no longer the Workspace's latest state
    torch.testing.assert_close(again.logits, second.logits, rtol=0, atol=0)
