"""Module-based automatic differentiation with a tape, as in the lecture, in plain numpy.

The lecture's recipe for gradients of any network:

1. Build the network from *modules*. Each module knows two things:
       forward(x)          y = f(x)                      (and remembers what backward will need)
       backward(dL/dy)     dL/dx = (dy/dx)^T dL/dy       (and adds dL/dtheta to its parameters)
2. During the forward pass a *tape* records every module run, with the values it read.
3. backward() replays the tape in reverse: each module turns the gradient of its output into
   gradients of its inputs, and the tape routes those to whatever produced the inputs. A value
   read twice (h_t feeds both the output layer and the next time step) gets both gradients added:
   that is the multivariate chain rule, dL/dh = sum over every use of h.

The network built here is the lecture's Elman RNN language model, unrolled over time:

    h_t      = sigmoid(W_xh x_t + W_hh h_{t-1} + b_h)          x_t = one-hot of the t-th token
    y_t      = W_hy h_t + b_y
    p_t      = softmax(y_t)                                   p(w | h_t) = p_t[w]
    loss     = (1/T) sum_t -log p_t[w_{t+1}]                  mean cross-entropy over time steps

The loss is the *mean* over the T predictions (not the sum), so it is the per-token cross-entropy
in nats, exp(loss) is the perplexity, and it matches torch's `cross_entropy(reduction="mean")`.

Everything is float64 and every array is one time step of one sequence (no batch axis), so each
shape in the comments is exactly what the slides draw: V = vocabulary size, H = hidden size.

This file is for teaching, not speed: the tape keeps a human-readable `trace` of what ran, in
order, which the game can show step by step. `numerical_gradient` (central differences) is here
too, so the tests, and the curious, can check every backward against the definition of a
derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

__all__ = [
    "Add",
    "BackwardStep",
    "CrossEntropy",
    "ElmanRNNLM",
    "Embedding",
    "Linear",
    "Mean",
    "Module",
    "PARAMETER_NAMES",
    "Record",
    "Parameter",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "Tape",
    "TraceEntry",
    "Unrolled",
    "Value",
    "backward_with_steps",
    "module_parameters",
    "numerical_gradient",
    "one_hot",
    "relative_error",
    "shown_names",
]

Array = np.ndarray
Phase = Literal["forward", "backward"]
Nonlinearity = Literal["sigmoid", "tanh"]


# --------------------------------------------------------------------------------------------
# Parameters and values
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Parameter:
    """A trainable array and the gradient of the loss with respect to it (same shape).

    Modules *add* into `grad` in their backward, never overwrite it: unrolling an RNN runs the
    same W_hh at every time step, and dL/dW_hh is the sum of what every step contributes.
    Call `zero_grad()` before a new backward pass.
    """

    name: str
    value: Array
    grad: Array = field(init=False)

    def __post_init__(self) -> None:
        self.value = np.asarray(self.value, dtype=np.float64)
        self.grad = np.zeros_like(self.value)

    def zero_grad(self) -> None:
        self.grad = np.zeros_like(self.value)


@dataclass(eq=False)
class Value:
    """An array flowing through the network (an input, h_t, y_t, a loss ...), with a name.

    After `Tape.backward`, `grad` holds dL/dvalue (same shape as `data`), or None if backward
    has not reached it. Values are compared by identity: two values with equal numbers are
    still two different nodes of the graph.
    """

    data: Array
    name: str = ""
    grad: Array | None = None

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape


# --------------------------------------------------------------------------------------------
# Modules: forward(inputs) -> output, backward(dL/doutput) -> dL/dinputs
# --------------------------------------------------------------------------------------------


class Module:
    """Base class. A module instance is used *once*: forward caches what backward needs.

    To reuse a layer (the same W_hh at every time step), make a new module per use that shares
    the same `Parameter`; gradients of all uses then add up in `Parameter.grad`. That is exactly
    the picture of an unrolled RNN: T copies of the cell, tied weights.

    Constants that are not differentiated (a token id, a target word) are given to the
    constructor, so `forward` takes only arrays and `backward` returns one gradient per array.
    """

    label: str = "Module"

    def forward(self, *inputs: Array) -> Array:
        raise NotImplementedError

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        """dL/d(each input), given dL/d(output); adds dL/d(parameters) to their `grad`."""
        raise NotImplementedError


class Linear(Module):
    """y = W x + b.     W: (out, in), b: (out,) or None, x: (in,), y: (out,).

    backward, with g = dL/dy  (out,):
        dL/dW += g x^T    (out, in)     outer product
        dL/db += g        (out,)
        dL/dx  = W^T g    (in,)
    """

    def __init__(self, weight: Parameter, bias: Parameter | None = None) -> None:
        self.weight = weight
        self.bias = bias
        self.label = f"Linear {weight.name}"
        self.x: Array | None = None

    # The slides' names for the parameters and their gradients.
    @property
    def W(self) -> Array:
        return self.weight.value

    @property
    def b(self) -> Array | None:
        return None if self.bias is None else self.bias.value

    @property
    def dW(self) -> Array:
        return self.weight.grad

    @property
    def db(self) -> Array | None:
        return None if self.bias is None else self.bias.grad

    def forward(self, x: Array) -> Array:
        self.x = x  # (in,)
        y = self.W @ x  # (out,)
        if self.bias is not None:
            y = y + self.bias.value
        return y

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.x is not None, "backward before forward"
        self.weight.grad += np.outer(grad_out, self.x)  # (out, in)
        if self.bias is not None:
            self.bias.grad += grad_out  # (out,)
        return (self.W.T @ grad_out,)  # (in,)


def one_hot(token: int, size: int) -> Array:
    """The lecture's input vector x_t: all zeros but a 1 at the token's index.  (size,)"""
    x = np.zeros(size, dtype=np.float64)
    x[token] = 1.0
    return x


class Embedding(Module):
    """W_xh x_t for a one-hot x_t, without building x_t: column `token` of W_xh.

        W_xh one_hot(w) = W_xh[:, w]            W_xh: (H, V), result: (H,)

    It is `Linear(W_xh)` applied to `one_hot(token, V)`, and so is its backward: only the
    token's column receives a gradient, dL/dW_xh[:, w] += g. The token is a discrete constant
    with no gradient, so forward takes no arrays and backward returns an empty tuple.
    """

    def __init__(self, table: Parameter, token: int) -> None:
        self.table = table
        self.token = int(token)
        self.label = f"Embedding {table.name}"

    def forward(self) -> Array:
        return self.table.value[:, self.token].copy()  # (H,)

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        self.table.grad[:, self.token] += grad_out  # (H,) into one column of (H, V)
        return ()


class Add(Module):
    """y = a + b, for W_xh x_t + (W_hh h_{t-1} + b_h). The gradient copies to both inputs:

    dL/da = g,  dL/db = g
    """

    label = "Add"

    def forward(self, a: Array, b: Array) -> Array:
        return a + b

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        return (grad_out, grad_out)


class Sigmoid(Module):
    """h = sigmoid(a) = 1 / (1 + exp(-a)), elementwise.    dL/da = g * h * (1 - h).

    Computed as (1 + tanh(a/2)) / 2, which is the same function but never overflows exp.
    """

    label = "Sigmoid"

    def __init__(self) -> None:
        self.h: Array | None = None

    def forward(self, a: Array) -> Array:
        self.h = 0.5 * (1.0 + np.tanh(0.5 * a))
        return self.h

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.h is not None, "backward before forward"
        return (grad_out * self.h * (1.0 - self.h),)


class Tanh(Module):
    """h = tanh(a), elementwise.    dL/da = g * (1 - h^2)."""

    label = "Tanh"

    def __init__(self) -> None:
        self.h: Array | None = None

    def forward(self, a: Array) -> Array:
        self.h = np.tanh(a)
        return self.h

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.h is not None, "backward before forward"
        return (grad_out * (1.0 - self.h**2),)


class Softmax(Module):
    """p = softmax(y): p_i = exp(y_i) / sum_j exp(y_j).    y, p: (V,)

    Numerics: exp(y - max(y)) gives the same p and never overflows.
    backward: the Jacobian is dp_i/dy_j = p_i (delta_ij - p_j), so
        dL/dy = p * (g - <g, p>)      (V,)
    """

    label = "Softmax"

    def __init__(self) -> None:
        self.p: Array | None = None

    def forward(self, y: Array) -> Array:
        e = np.exp(y - np.max(y))  # (V,), largest entry is exactly 1
        self.p = e / np.sum(e)
        return self.p

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.p is not None, "backward before forward"
        return (self.p * (grad_out - np.dot(grad_out, self.p)),)


# Smallest positive normal float64 (~2.2e-308): -log of it is ~708, finite.
_TINY = np.finfo(np.float64).tiny


class CrossEntropy(Module):
    """loss = -log p[target], on a probability vector p (V,). The loss is a scalar, shape ().

    backward: only the target's probability matters,  dL/dp = -g / p[target] at the target,
    0 elsewhere. Chained with Softmax's backward this gives the famous p - one_hot(target).

    Numerics: in float64, softmax probabilities underflow to 0 only when a logit trails the
    largest by more than ~745; p[target] is then clamped to the smallest normal float so the
    loss (~708) and gradient stay finite. `SoftmaxCrossEntropy` avoids the issue altogether.
    """

    def __init__(self, target: int) -> None:
        self.target = int(target)
        self.label = "CrossEntropy"
        self.p: Array | None = None

    def forward(self, p: Array) -> Array:
        self.p = p
        return np.array(-np.log(max(p[self.target], _TINY)))  # ()

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.p is not None, "backward before forward"
        grad_p = np.zeros_like(self.p)  # (V,)
        grad_p[self.target] = -grad_out / max(self.p[self.target], _TINY)
        return (grad_p,)


class SoftmaxCrossEntropy(Module):
    """Softmax then CrossEntropy fused into one module, as libraries do it:

        loss  = -log softmax(y)[target] = logsumexp(y) - y[target]      ()
        dL/dy = g * (softmax(y) - one_hot(target))                      (V,)

    Same numbers as the two-module version, but log-probabilities never pass through exp, so
    nothing can underflow however far apart the logits are.
    """

    def __init__(self, target: int) -> None:
        self.target = int(target)
        self.label = "SoftmaxCrossEntropy"
        self.p: Array | None = None

    def forward(self, y: Array) -> Array:
        shifted = y - np.max(y)  # (V,)
        log_z = np.log(np.sum(np.exp(shifted)))
        self.p = np.exp(shifted - log_z)
        return np.array(log_z - shifted[self.target])  # ()

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        assert self.p is not None, "backward before forward"
        return (grad_out * (self.p - one_hot(self.target, self.p.size)),)


class Mean(Module):
    """loss = (1/T) sum_t loss_t over T scalar inputs.    dL/dloss_t = g / T for every t."""

    label = "Mean"

    def __init__(self) -> None:
        self.count = 0

    def forward(self, *losses: Array) -> Array:
        self.count = len(losses)
        return np.array(np.mean([float(loss) for loss in losses]))  # ()

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        return tuple(np.array(grad_out / self.count) for _ in range(self.count))


# --------------------------------------------------------------------------------------------
# The tape
# --------------------------------------------------------------------------------------------


class TraceEntry(NamedTuple):
    """One line of what the tape did, for showing step by step.

    A backward entry names the same values as its forward entry: there it is their gradients
    that flow, from `output` back to `inputs` (gradients have the shapes of their values).
    """

    phase: Phase
    module: str  # e.g. "Linear W_hh"
    inputs: tuple[str, ...]  # names of the values read, e.g. ("h_2",)
    output: str  # name of the value written, e.g. "W_hh h_2 + b_h"
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]

    def describe(self) -> str:
        """One line for a UI, e.g.
        'forward  Linear W_hh: h_2 (4,) -> W_hh h_2 + b_h (4,)'
        'backward Linear W_hh: d(W_hh h_2 + b_h) (4,) -> dh_2 (4,)'
        """
        names = self.inputs if self.phase == "forward" else tuple(map(_grad_name, self.inputs))
        out_name = self.output if self.phase == "forward" else _grad_name(self.output)
        ins = ", ".join(f"{n} {s}" for n, s in zip(names, self.input_shapes, strict=True))
        ins = ins or ("(no inputs)" if self.phase == "forward" else "(nothing to differentiate)")
        out = f"{out_name} {self.output_shape}"
        if self.phase == "forward":
            return f"forward  {self.module}: {ins} -> {out}"
        return f"backward {self.module}: {out} -> {ins}"


def _grad_name(name: str) -> str:
    """'h_2' -> 'dh_2', 'W_hh h_2 + b_h' -> 'd(W_hh h_2 + b_h)'."""
    return f"d({name})" if " " in name else f"d{name}"


@dataclass
class Record:
    """What the tape remembers about one forward call: who ran, on what, giving what."""

    module: Module
    inputs: tuple[Value, ...]
    output: Value


class Tape:
    """Records modules during the forward pass; replays their backward in reverse.

    tape = Tape()
    h = tape.forward(Sigmoid(), a, name="h")        # runs and records
    ...
    tape.backward(loss)                             # fills every value's .grad and
                                                    # every parameter's .grad
    for entry in tape.trace: print(entry.describe())
    """

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.trace: list[TraceEntry] = []
        self._used_modules: set[int] = set()

    def forward(self, module: Module, *inputs: Value, name: str = "") -> Value:
        """Run `module` on the inputs' data, record it, and return the output as a new Value."""
        if id(module) in self._used_modules:
            raise ValueError(
                f"{module.label} instance is already on the tape: make a new module per use "
                "(sharing its Parameter) so each keeps its own cache for backward"
            )
        self._used_modules.add(id(module))
        output = Value(module.forward(*(value.data for value in inputs)))
        output.name = name or f"v{len(self.records)}"
        self.records.append(Record(module, inputs, output))
        self.trace.append(self._entry("forward", self.records[-1]))
        return output

    def backward(self, output: Value, grad_output: Array | None = None) -> None:
        """Backpropagate from `output` (by default a scalar loss, seeded with dL/dL = 1).

        Replays, newest first, every record up to the one that produced `output`. A record
        whose output got no gradient (not used on the way to `output`) passes zeros. Values'
        `.grad` are reset first; parameters' `.grad` accumulate (call zero_grad yourself).
        """
        last = next((i for i, r in enumerate(self.records) if r.output is output), None)
        if last is None:
            raise ValueError(f"{output.name!r} was not produced on this tape")
        if grad_output is None:
            if output.shape != ():
                raise ValueError(f"{output.name!r} has shape {output.shape}: pass grad_output")
            grad_output = np.ones(())
        for record in self.records[: last + 1]:
            record.output.grad = None
            for value in record.inputs:
                value.grad = None
        output.grad = np.asarray(grad_output, dtype=np.float64).copy()

        for record in reversed(self.records[: last + 1]):
            grad_out = record.output.grad
            if grad_out is None:
                grad_out = np.zeros_like(record.output.data)
            input_grads = record.module.backward(grad_out)
            if len(input_grads) != len(record.inputs):
                raise RuntimeError(
                    f"{record.module.label} returned {len(input_grads)} gradients "
                    f"for {len(record.inputs)} inputs"
                )
            # Route each gradient to its input; a value used more than once adds them up.
            for value, grad in zip(record.inputs, input_grads, strict=True):
                value.grad = grad.copy() if value.grad is None else value.grad + grad
            self.trace.append(self._entry("backward", record))

    @staticmethod
    def _entry(phase: Phase, record: Record) -> TraceEntry:
        return TraceEntry(
            phase=phase,
            module=record.module.label,
            inputs=tuple(value.name for value in record.inputs),
            output=record.output.name,
            input_shapes=tuple(value.shape for value in record.inputs),
            output_shape=record.output.shape,
        )


# --------------------------------------------------------------------------------------------
# The Elman RNN language model, built from the modules above
# --------------------------------------------------------------------------------------------

PARAMETER_NAMES: tuple[str, ...] = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


@dataclass
class Unrolled:
    """One forward pass over a sequence, still on its tape (call tape.backward(loss))."""

    tape: Tape
    loss: Value  # () mean cross-entropy over the T steps
    h0: Value  # (H,) initial hidden state; after backward, h0.grad = dL/dh0
    hidden: list[Value]  # h_1 .. h_T, each (H,)
    losses: list[Value]  # -log p_t[w_{t+1}], each ()


class ElmanRNNLM:
    """The lecture's RNN language model, one sequence at a time, unrolled over time.

    Parameters (float64), with V = vocab_size and H = hidden_size:
        W_xh  (H, V)   input -> hidden: column w is the "embedding" of token w
        W_hh  (H, H)   hidden -> hidden, the recurrence
        b_h   (H,)
        W_hy  (V, H)   hidden -> output logits
        b_y   (V,)

    For tokens w_0 .. w_T and t = 1 .. T:
        a_t = W_xh x_t + W_hh h_{t-1} + b_h      x_t = one_hot(w_{t-1})      (H,)
        h_t = sigmoid(a_t)                       (or tanh)                   (H,)
        y_t = W_hy h_t + b_y                                                 (V,)
        p_t = softmax(y_t)                                                   (V,)
        L   = (1/T) sum_t -log p_t[w_t]                                      ()

    Initialisation: every entry uniform in [-1/sqrt(H), 1/sqrt(H)] from `seed` (torch's default
    for its RNN and Linear layers).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        *,
        seed: int = 0,
        nonlinearity: Nonlinearity = "sigmoid",
        fused_loss: bool = False,
    ) -> None:
        if nonlinearity not in ("sigmoid", "tanh"):
            raise ValueError(f"nonlinearity must be 'sigmoid' or 'tanh', not {nonlinearity!r}")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        self.fused_loss = fused_loss  # True: SoftmaxCrossEntropy; False: Softmax, CrossEntropy
        V, H = vocab_size, hidden_size
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(H)
        shapes = {"W_xh": (H, V), "W_hh": (H, H), "b_h": (H,), "W_hy": (V, H), "b_y": (V,)}
        self.params: dict[str, Parameter] = {
            name: Parameter(name, rng.uniform(-k, k, size=shape)) for name, shape in shapes.items()
        }

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, Array],
        *,
        nonlinearity: Nonlinearity = "sigmoid",
        fused_loss: bool = False,
    ) -> ElmanRNNLM:
        """A model with the given parameter arrays (copied), e.g. weights trained elsewhere."""
        hidden_size, vocab_size = np.shape(arrays["W_xh"])
        model = cls(vocab_size, hidden_size, nonlinearity=nonlinearity, fused_loss=fused_loss)
        for name in PARAMETER_NAMES:
            value = np.array(arrays[name], dtype=np.float64)
            if value.shape != model.params[name].value.shape:
                raise ValueError(
                    f"{name} has shape {value.shape}, expected {model.params[name].value.shape}"
                )
            model.params[name] = Parameter(name, value)
        return model

    def arrays(self) -> dict[str, Array]:
        """Copies of the parameter arrays, by name."""
        return {name: p.value.copy() for name, p in self.params.items()}

    def zero_grad(self) -> None:
        for parameter in self.params.values():
            parameter.zero_grad()

    def unroll(self, token_ids: Sequence[int], h0: Array | None = None) -> Unrolled:
        """Run the forward pass on one sequence, recording every module on a new tape.

        Inputs are token_ids[:-1], targets token_ids[1:]; h0 defaults to zeros (H,).
        """
        tokens = [int(w) for w in token_ids]
        if len(tokens) < 2:
            raise ValueError("need at least two tokens: one input and one target")
        if min(tokens) < 0 or max(tokens) >= self.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        if h0 is None:
            h0 = np.zeros(self.hidden_size)
        if np.shape(h0) != (self.hidden_size,):
            raise ValueError(f"h0 has shape {np.shape(h0)}, expected ({self.hidden_size},)")

        P = self.params
        squash = Sigmoid if self.nonlinearity == "sigmoid" else Tanh
        tape = Tape()
        h = h_initial = Value(h0, "h_0")  # (H,)
        hidden: list[Value] = []
        losses: list[Value] = []
        for t in range(1, len(tokens)):
            word, target = tokens[t - 1], tokens[t]
            # a_t = W_xh x_t + W_hh h_{t-1} + b_h
            input_part = tape.forward(Embedding(P["W_xh"], word), name=f"W_xh x_{t}")  # (H,)
            recurrent_part = tape.forward(
                Linear(P["W_hh"], P["b_h"]), h, name=f"W_hh h_{t - 1} + b_h"
            )  # (H,)
            a = tape.forward(Add(), input_part, recurrent_part, name=f"a_{t}")  # (H,)
            # h_t = sigmoid(a_t); h_t is read twice: by y_t below and by step t+1
            h = tape.forward(squash(), a, name=f"h_{t}")  # (H,)
            hidden.append(h)
            # y_t = W_hy h_t + b_y
            y = tape.forward(Linear(P["W_hy"], P["b_y"]), h, name=f"y_{t}")  # (V,)
            # loss_t = -log softmax(y_t)[w_t]
            if self.fused_loss:
                loss_t = tape.forward(SoftmaxCrossEntropy(target), y, name=f"loss_{t}")  # ()
            else:
                p = tape.forward(Softmax(), y, name=f"p_{t}")  # (V,)
                loss_t = tape.forward(CrossEntropy(target), p, name=f"loss_{t}")  # ()
            losses.append(loss_t)
        # L = (1/T) sum_t loss_t
        loss = tape.forward(Mean(), *losses, name="loss")  # ()
        return Unrolled(tape=tape, loss=loss, h0=h_initial, hidden=hidden, losses=losses)

    def loss_and_gradients(
        self, token_ids: Sequence[int], h0: Array | None = None
    ) -> tuple[float, dict[str, Array]]:
        """Mean cross-entropy on one sequence, and dL/d(each parameter) by name (copies).

        Gradients start from zero on every call (nothing carries over between calls).
        """
        self.zero_grad()
        run = self.unroll(token_ids, h0)
        run.tape.backward(run.loss)
        return float(run.loss.data), {name: p.grad.copy() for name, p in self.params.items()}


# --------------------------------------------------------------------------------------------
# Checking gradients against the definition of a derivative
# --------------------------------------------------------------------------------------------


def numerical_gradient(f: Callable[[], float], array: Array, eps: float = 1e-6) -> Array:
    """df/darray by central differences, one entry at a time:

        df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      error O(eps^2)

    `f` takes no arguments and reads `array`, which is nudged in place and restored exactly.
    """
    grad = np.zeros_like(array, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        f_plus = float(f())
        array[index] = original - eps
        f_minus = float(f())
        array[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(a: Array, b: Array) -> float:
    """||a - b|| / (||a|| + ||b||): 0 when equal, scale-free; 0.0 if both are zero."""
    denominator = float(np.linalg.norm(a) + np.linalg.norm(b))
    return 0.0 if denominator == 0.0 else float(np.linalg.norm(a - b)) / denominator


# --------------------------------------------------------------------------------------------
# Watching the backward pass step by step (the game's "under the hood" view)
# --------------------------------------------------------------------------------------------


@dataclass
class BackwardStep:
    """What one module's backward received and sent while `Tape.backward` replayed it.

    `grad_inputs` is this use's share of each input's gradient, `input_totals` the input's
    gradient summed over the uses replayed so far: the two differ for a value read twice, such
    as h_t (by y_t and by step t+1), until its last use has sent its share. `parameter_grads` are
    the module's parameters' gradients right after its `+=`, so they too show the sum so far.
    """

    record: Record
    grad_output: Array  # dL/d(output), as it arrived
    grad_inputs: tuple[Array, ...]  # what this module sent to each input
    input_totals: tuple[Array, ...]  # each input's gradient after this step's share was added
    parameter_grads: dict[str, Array]  # name -> gradient of the loss, summed so far


def module_parameters(module: Module) -> list[Parameter]:
    """The parameters a module reads: a Linear's weight and bias, an Embedding's table."""
    return [value for value in vars(module).values() if isinstance(value, Parameter)]


def shown_names(entry: TraceEntry) -> tuple[tuple[str, ...], str]:
    """The names `entry.describe()` shows: the values in a forward entry, their gradients
    ('dh_2', 'd(W_hh h_2 + b_h)') in a backward one. Returns (input names, output name)."""
    if entry.phase == "forward":
        return entry.inputs, entry.output
    return tuple(map(_grad_name, entry.inputs)), _grad_name(entry.output)


class _Listener(Module):
    """Stands in for a recorded module during one backward: runs its backward, notes what flowed."""

    def __init__(self, record: Record, steps: list[BackwardStep]) -> None:
        self.module = record.module
        self.record = record  # the tape's own record (its module is restored afterwards)
        self.steps = steps
        self.label = record.module.label

    def backward(self, grad_out: Array) -> tuple[Array, ...]:
        module, inputs = self.module, self.record.inputs
        grads = module.backward(grad_out)
        if len(grads) == len(inputs):  # otherwise the tape raises its own error next
            totals = tuple(
                np.array(grad, dtype=np.float64) if value.grad is None else value.grad + grad
                for value, grad in zip(inputs, grads, strict=True)
            )
            self.steps.append(
                BackwardStep(
                    record=self.record,
                    grad_output=np.array(grad_out, dtype=np.float64),
                    grad_inputs=tuple(np.array(grad, dtype=np.float64) for grad in grads),
                    input_totals=totals,
                    parameter_grads={p.name: p.grad.copy() for p in module_parameters(module)},
                )
            )
        return grads


def backward_with_steps(
    tape: Tape, output: Value, grad_output: Array | None = None
) -> list[BackwardStep]:
    """`tape.backward(output, grad_output)`, also returning what every module's backward did,
    in the order they ran (newest record first).

    The real `Tape.backward` does the work, so routing and accumulation are exactly the
    lecture's; the tape, its values and the parameters end as after a plain backward.
    """
    steps: list[BackwardStep] = []
    modules = [record.module for record in tape.records]
    try:
        for record in tape.records:
            record.module = _Listener(record, steps)
        tape.backward(output, grad_output)
    finally:
        for record, module in zip(tape.records, modules, strict=True):
            record.module = module
    return steps
