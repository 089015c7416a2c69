"""The tape-based autodiff of app/lm/tape.py, checked two independent ways.

1. Against the definition of a derivative: central differences on every module alone, on a
   graph where one value is used twice, and on the whole unrolled RNN language model.
2. Against PyTorch autograd: the same Elman RNN-LM written with torch's own ops, same weights,
   must give the same loss and the same gradient for every parameter (and for h0).

All float64, so agreement is to ~1e-6 relative error or better.
"""

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.lm.tape import (
    Add,
    CrossEntropy,
    ElmanRNNLM,
    Embedding,
    Linear,
    Mean,
    Module,
    Parameter,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
    Tape,
    Value,
    numerical_gradient,
    one_hot,
    relative_error,
)

torch.set_num_threads(1)

TOLERANCE = 1e-6
V, H, T = 5, 4, 6  # vocabulary, hidden size, time steps of the short test sequence
TOKENS = [0, 3, 1, 4, 4, 2, 0]  # T + 1 tokens: inputs TOKENS[:-1], targets TOKENS[1:]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def check_module(module_factory: Callable[[], Module], *input_arrays: np.ndarray) -> None:
    """Finite-difference check of one module: every input gradient and parameter gradient.

    A non-scalar output y is reduced to the scalar f = sum(y * R) for a fixed random R, so
    the gradient fed to backward is R. A fresh module runs on a fresh tape for every f(), so
    the check also covers the tape's bookkeeping.
    """
    inputs = [np.array(a, dtype=np.float64) for a in input_arrays]

    def run() -> tuple[Tape, list[Value], Value]:
        tape = Tape()
        values = [Value(a, f"x{i}") for i, a in enumerate(inputs)]
        return tape, values, tape.forward(module_factory(), *values, name="y")

    _, _, y = run()
    weights = rng(99).normal(size=y.shape)  # R

    def f() -> float:
        return float(np.sum(run()[2].data * weights))

    # Analytic: one backward with dL/dy = R, into fresh parameter gradients.
    module = module_factory()
    parameters = [p for p in vars(module).values() if isinstance(p, Parameter)]
    for p in parameters:
        p.zero_grad()
    tape = Tape()
    values = [Value(a, f"x{i}") for i, a in enumerate(inputs)]
    out = tape.forward(module, *values, name="y")
    tape.backward(out, grad_output=weights)

    for array, value in zip(inputs, values, strict=True):
        numeric = numerical_gradient(f, array)
        assert value.grad is not None
        assert relative_error(value.grad, numeric) < TOLERANCE, value.name
    for p in parameters:
        analytic = p.grad.copy()
        numeric = numerical_gradient(f, p.value)
        assert relative_error(analytic, numeric) < TOLERANCE, p.name


# --------------------------------------------------------------------------------------------
# 1a. Each module alone
# --------------------------------------------------------------------------------------------


def test_linear_gradients_for_input_weight_and_bias_match_finite_differences() -> None:
    W = Parameter("W", rng(1).normal(size=(3, 4)))  # (out, in)
    b = Parameter("b", rng(2).normal(size=3))  # (out,)
    check_module(lambda: Linear(W, b), rng(3).normal(size=4))


def test_linear_exposes_the_lectures_w_b_dw_db() -> None:
    layer = Linear(Parameter("W", np.eye(2)), Parameter("b", np.ones(2)))
    tape = Tape()
    y = tape.forward(layer, Value(np.array([1.0, 2.0])), name="y")
    tape.backward(y, grad_output=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(layer.W, np.eye(2))
    np.testing.assert_array_equal(layer.b, np.ones(2))
    np.testing.assert_array_equal(layer.dW, [[1.0, 2.0], [-1.0, -2.0]])  # g x^T
    np.testing.assert_array_equal(layer.db, [1.0, -1.0])


def test_sigmoid_gradient_matches_finite_differences() -> None:
    check_module(Sigmoid, rng(4).normal(size=6) * 3)


def test_tanh_gradient_matches_finite_differences() -> None:
    check_module(Tanh, rng(5).normal(size=6) * 2)


def test_softmax_gradient_matches_finite_differences() -> None:
    check_module(Softmax, rng(6).normal(size=5) * 2)


def test_cross_entropy_on_probabilities_gradient_matches_finite_differences() -> None:
    probabilities = rng(7).dirichlet(np.ones(5))
    check_module(lambda: CrossEntropy(target=2), probabilities)


def test_fused_softmax_cross_entropy_gradient_matches_finite_differences() -> None:
    check_module(lambda: SoftmaxCrossEntropy(target=1), rng(8).normal(size=5) * 2)


def test_add_sends_the_gradient_to_both_inputs_matching_finite_differences() -> None:
    check_module(Add, rng(9).normal(size=4), rng(10).normal(size=4))


def test_mean_gradient_matches_finite_differences() -> None:
    check_module(Mean, np.array(1.5), np.array(-0.5), np.array(2.0))


def test_embedding_equals_linear_on_one_hot_in_value_and_gradient() -> None:
    table = rng(11).normal(size=(H, V))  # W_xh (H, V)
    g = rng(12).normal(size=H)  # dL/d(W_xh x)
    lookup, matmul = Parameter("W_xh", table), Parameter("W_xh", table)

    tape = Tape()
    by_lookup = tape.forward(Embedding(lookup, token=3), name="W_xh x")
    tape.backward(by_lookup, grad_output=g)
    tape = Tape()
    x = Value(one_hot(3, V), "x")
    by_matmul = tape.forward(Linear(matmul), x, name="W_xh x")
    tape.backward(by_matmul, grad_output=g)

    np.testing.assert_array_equal(by_lookup.data, by_matmul.data)
    np.testing.assert_array_equal(lookup.grad, matmul.grad)
    assert np.count_nonzero(lookup.grad[:, [0, 1, 2, 4]]) == 0  # only the token's column


def test_embedding_weight_gradient_matches_finite_differences() -> None:
    table = Parameter("W_xh", rng(13).normal(size=(H, V)))
    check_module(lambda: Embedding(table, token=1))


def test_softmax_and_cross_entropy_stay_finite_on_extreme_logits_in_float64() -> None:
    logits = np.array([1000.0, 0.0, -1000.0])
    tape = Tape()
    y = Value(logits, "y")
    p = tape.forward(Softmax(), y, name="p")
    loss = tape.forward(CrossEntropy(target=2), p, name="loss")  # p[2] underflows to 0
    tape.backward(loss)
    assert np.all(np.isfinite(p.data)) and np.isclose(p.data.sum(), 1.0)
    assert np.isfinite(loss.data) and loss.data > 700
    assert y.grad is not None and np.all(np.isfinite(y.grad))

    tape = Tape()
    y = Value(logits, "y")
    fused = tape.forward(SoftmaxCrossEntropy(target=2), y, name="loss")
    tape.backward(fused)
    assert fused.data == pytest.approx(2000.0)  # exact: logsumexp(y) - y[2]
    np.testing.assert_allclose(y.grad, [1.0, 0.0, -1.0], atol=1e-12)  # p - one_hot


# --------------------------------------------------------------------------------------------
# 1b. The tape: routing, a value used twice, the trace
# --------------------------------------------------------------------------------------------


def test_tape_accumulates_gradients_of_a_value_used_twice() -> None:
    """h = sigmoid(x) feeds two layers, like h_t feeding y_t and h_{t+1}; and a + a."""
    A = Parameter("A", rng(14).normal(size=(3, 4)))
    B = Parameter("B", rng(15).normal(size=(3, 4)))
    x_array = rng(16).normal(size=4)
    weights = rng(17).normal(size=3)

    def build() -> tuple[Tape, Value, Value]:
        tape = Tape()
        x = Value(x_array, "x")
        h = tape.forward(Sigmoid(), x, name="h")
        via_a = tape.forward(Linear(A), h, name="A h")
        via_b = tape.forward(Linear(B), h, name="B h")
        both = tape.forward(Add(), via_a, via_b, name="A h + B h")
        doubled = tape.forward(Add(), both, both, name="2 (A h + B h)")  # same value twice
        return tape, x, doubled

    def f() -> float:
        return float(np.sum(build()[2].data * weights))

    A.zero_grad()
    B.zero_grad()
    tape, x, out = build()
    tape.backward(out, grad_output=weights)

    assert x.grad is not None
    assert relative_error(x.grad, numerical_gradient(f, x_array)) < TOLERANCE
    assert relative_error(A.grad.copy(), numerical_gradient(f, A.value)) < TOLERANCE
    assert relative_error(B.grad.copy(), numerical_gradient(f, B.value)) < TOLERANCE


def test_tape_refuses_the_same_module_instance_twice() -> None:
    tape = Tape()
    sigmoid = Sigmoid()
    h = tape.forward(sigmoid, Value(np.zeros(2)), name="h")
    with pytest.raises(ValueError, match="already on the tape"):
        tape.forward(sigmoid, h)


def test_tape_backward_needs_a_gradient_for_non_scalar_outputs() -> None:
    tape = Tape()
    y = tape.forward(Sigmoid(), Value(np.zeros(2)), name="y")
    with pytest.raises(ValueError, match="grad_output"):
        tape.backward(y)


def test_trace_lists_forward_in_order_and_backward_in_exact_reverse() -> None:
    model = ElmanRNNLM(V, H, seed=0)
    run = model.unroll(TOKENS[:4])  # T = 3
    run.tape.backward(run.loss)
    trace = run.tape.trace
    forward = [e for e in trace if e.phase == "forward"]
    backward = [e for e in trace if e.phase == "backward"]

    assert trace == forward + backward  # all forward entries come first
    step = [
        "Embedding W_xh",
        "Linear W_hh",
        "Add",
        "Sigmoid",
        "Linear W_hy",
        "Softmax",
        "CrossEntropy",
    ]
    assert [e.module for e in forward] == step * 3 + ["Mean"]
    assert [e.output for e in forward[:7]] == [
        "W_xh x_1",
        "W_hh h_0 + b_h",
        "a_1",
        "h_1",
        "y_1",
        "p_1",
        "loss_1",
    ]
    assert forward[1].inputs == ("h_0",) and forward[1].input_shapes == ((H,),)
    assert forward[4].output_shape == (V,) and forward[-1].output_shape == ()
    reversed_forward = [e._replace(phase="backward") for e in reversed(forward)]
    assert backward == reversed_forward
    assert forward[1].describe() == "forward  Linear W_hh: h_0 (4,) -> W_hh h_0 + b_h (4,)"
    assert backward[-2].describe() == "backward Linear W_hh: d(W_hh h_0 + b_h) (4,) -> dh_0 (4,)"
    assert backward[-3].describe() == (
        "backward Add: da_1 (4,) -> d(W_xh x_1) (4,), d(W_hh h_0 + b_h) (4,)"
    )
    assert backward[-1].describe() == (
        "backward Embedding W_xh: d(W_xh x_1) (4,) -> (nothing to differentiate)"
    )


# --------------------------------------------------------------------------------------------
# 1c. The whole unrolled RNN language model against finite differences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nonlinearity", "fused_loss"),
    [("sigmoid", False), ("sigmoid", True), ("tanh", False)],
)
def test_unrolled_rnn_lm_gradients_match_finite_differences(
    nonlinearity: str, fused_loss: bool
) -> None:
    model = ElmanRNNLM(V, H, seed=1, nonlinearity=nonlinearity, fused_loss=fused_loss)
    h0 = rng(18).normal(size=H) * 0.5
    loss, grads = model.loss_and_gradients(TOKENS, h0)

    def f() -> float:
        return float(model.unroll(TOKENS, h0).loss.data)

    assert loss == pytest.approx(f())
    for name, parameter in model.params.items():
        numeric = numerical_gradient(f, parameter.value)
        assert relative_error(grads[name], numeric) < TOLERANCE, name
    # and the initial hidden state, which a Value collects (for chaining sequences)
    model.zero_grad()
    run = model.unroll(TOKENS, h0)
    run.tape.backward(run.loss)
    assert run.h0.grad is not None
    assert relative_error(run.h0.grad, numerical_gradient(f, h0)) < TOLERANCE


def test_loss_and_gradients_start_from_zero_on_every_call() -> None:
    model = ElmanRNNLM(V, H, seed=2)
    first = model.loss_and_gradients(TOKENS)
    second = model.loss_and_gradients(TOKENS)
    assert first[0] == second[0]
    for name in first[1]:
        np.testing.assert_array_equal(first[1][name], second[1][name])


def test_parameters_have_the_documented_shapes_and_are_seeded() -> None:
    model = ElmanRNNLM(V, H, seed=3)
    shapes = {name: p.value.shape for name, p in model.params.items()}
    assert shapes == {"W_xh": (H, V), "W_hh": (H, H), "b_h": (H,), "W_hy": (V, H), "b_y": (V,)}
    assert all(p.value.dtype == np.float64 for p in model.params.values())
    again = ElmanRNNLM(V, H, seed=3).arrays()
    for name, array in model.arrays().items():
        np.testing.assert_array_equal(array, again[name])
    assert np.all(np.abs(model.params["W_hh"].value) <= 1 / np.sqrt(H))


def test_unroll_rejects_too_short_sequences_and_unknown_tokens() -> None:
    model = ElmanRNNLM(V, H)
    with pytest.raises(ValueError, match="two tokens"):
        model.loss_and_gradients([1])
    with pytest.raises(ValueError, match="token ids"):
        model.loss_and_gradients([1, V])


def test_gradient_descent_with_the_tape_lowers_the_loss() -> None:
    model = ElmanRNNLM(V, H, seed=4)
    start, _ = model.loss_and_gradients(TOKENS)
    for _ in range(100):
        _, grads = model.loss_and_gradients(TOKENS)
        for name, parameter in model.params.items():
            parameter.value -= 1.0 * grads[name]  # theta <- theta - lr dL/dtheta
    end, _ = model.loss_and_gradients(TOKENS)
    assert start > 1.5 and end < 0.5  # from about log V = 1.6 nats to memorising the sequence


# --------------------------------------------------------------------------------------------
# 2. The whole model against PyTorch autograd
# --------------------------------------------------------------------------------------------


def torch_elman_loss_and_gradients(
    arrays: dict[str, np.ndarray], tokens: list[int], h0: np.ndarray
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The same RNN-LM in a few lines of torch (float64): loss, parameter grads, dL/dh0."""
    p = {
        name: torch.tensor(a, dtype=torch.float64, requires_grad=True) for name, a in arrays.items()
    }
    h_initial = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    vocab_size = arrays["W_xh"].shape[1]
    h = h_initial
    logits = []
    for word in tokens[:-1]:
        x = F.one_hot(torch.tensor(word), vocab_size).to(torch.float64)  # (V,)
        h = torch.sigmoid(p["W_xh"] @ x + p["W_hh"] @ h + p["b_h"])  # (H,)
        logits.append(p["W_hy"] @ h + p["b_y"])  # (V,)
    loss = F.cross_entropy(torch.stack(logits), torch.tensor(tokens[1:]), reduction="mean")
    loss.backward()
    grads = {name: t.grad.numpy() for name, t in p.items()}
    assert h_initial.grad is not None
    return loss.item(), grads, h_initial.grad.numpy()


@pytest.mark.parametrize(
    ("tokens", "nonzero_h0", "fused_loss"),
    [
        (TOKENS, False, False),
        (TOKENS, True, False),
        (TOKENS, True, True),
        ([2, 2, 2, 1, 0, 4, 3, 3, 1, 0, 2, 4, 1], True, False),
    ],
    ids=["zero-h0", "nonzero-h0", "nonzero-h0-fused", "longer-nonzero-h0"],
)
def test_tape_gradients_match_pytorch_autograd_to_1e6(
    tokens: list[int], nonzero_h0: bool, fused_loss: bool
) -> None:
    model = ElmanRNNLM(V, H, seed=5, fused_loss=fused_loss)
    h0 = rng(19).uniform(-1, 1, size=H) if nonzero_h0 else np.zeros(H)
    model.zero_grad()
    run = model.unroll(tokens, h0 if nonzero_h0 else None)
    run.tape.backward(run.loss)
    ours = {name: p.grad.copy() for name, p in model.params.items()}

    torch_loss, torch_grads, torch_dh0 = torch_elman_loss_and_gradients(model.arrays(), tokens, h0)

    assert float(run.loss.data) == pytest.approx(torch_loss, rel=TOLERANCE)
    for name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        assert relative_error(ours[name], torch_grads[name]) < TOLERANCE, name
    assert run.h0.grad is not None
    assert relative_error(run.h0.grad, torch_dh0) < TOLERANCE


def test_tape_matches_autograd_on_the_products_elman_model() -> None:
    """The tape and app/lm/rnn.py's `elman` CharRNN agree on loss and every gradient (float64).

    The product's network reads x_t through an embedding; with the identity as embedding
    (E = V) its W_xh multiplies the one-hot x_t exactly as the lecture's does.
    """
    from app.lm.rnn import CharRNN, RNNConfig

    V, H = 6, 5
    tokens = [0, 3, 1, 4, 4, 2, 5, 1]
    lecture = ElmanRNNLM(V, H, seed=3)
    loss, grads = lecture.loss_and_gradients(tokens)

    config = RNNConfig(cell="elman", nonlinearity="sigmoid", embedding_size=V, hidden_size=H,
                       layers=1, dropout=0.0)  # fmt: skip
    network = CharRNN(config, V).double()
    weights = lecture.arrays()
    with torch.no_grad():
        network.embedding.weight.copy_(torch.eye(V, dtype=torch.float64))
        layer = network.rnn.layers[0]
        for name in ("W_xh", "W_hh", "b_h"):
            getattr(layer, name).copy_(torch.from_numpy(weights[name]))
        network.W_hy.copy_(torch.from_numpy(weights["W_hy"]))
        network.b_y.copy_(torch.from_numpy(weights["b_y"]))
    inputs = torch.tensor(tokens[:-1])[None, :]  # (1, T)
    logits, _ = network(inputs)  # (1, T, V)
    torch_loss = F.cross_entropy(logits[0], torch.tensor(tokens[1:]))
    torch_loss.backward()

    assert abs(loss - torch_loss.item()) < 1e-6
    torch_grads = {"W_xh": layer.W_xh.grad, "W_hh": layer.W_hh.grad, "b_h": layer.b_h.grad,
                   "W_hy": network.W_hy.grad, "b_y": network.b_y.grad}  # fmt: skip
    for name, expected in torch_grads.items():
        np.testing.assert_allclose(grads[name], expected.numpy(), rtol=1e-6, atol=1e-10)
