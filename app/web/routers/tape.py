"""Under the hood: the lecture's autodiff tape (app/lm/tape.py) step by step.

GET /api/tape builds a tiny Elman RNN language model whose vocabulary is the text's own
characters, runs it forward over the text and backward from the mean cross-entropy, and returns
every module the tape ran, in the order it ran them, with the numbers that flowed in and out.
GET /tape is the page that plays those steps for a lecture.
"""

import math
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.lm.tape import (
    BackwardStep,
    ElmanRNNLM,
    Embedding,
    Linear,
    Record,
    TraceEntry,
    Unrolled,
    backward_with_steps,
    module_parameters,
    shown_names,
)
from app.web.routers.pages import render

router = APIRouter(tags=["tape"])

DECIMALS = 4  # every number in the reply is rounded to this many decimals
MIN_TEXT, MAX_TEXT = 2, 12  # characters: at least one input and one target; few enough to read
MIN_HIDDEN, MAX_HIDDEN = 2, 8
MAX_SEED = 2**31 - 1

Axis = Literal["hidden", "vocab"]
# What each axis of each parameter counts: W_xh is (H, V), W_hy is (V, H) ...
PARAMETER_AXES: dict[str, tuple[Axis, ...]] = {
    "W_xh": ("hidden", "vocab"),
    "W_hh": ("hidden", "hidden"),
    "b_h": ("hidden",),
    "W_hy": ("vocab", "hidden"),
    "b_y": ("vocab",),
}

# The lecture's equations, forward then backward; a step's `equation` indexes this list and
# templates/tape.html writes the same equations, in the same order, with <sub> and <sup>.
EQUATIONS: tuple[str, ...] = (
    "a_t = W_xh x_t + W_hh h_(t-1) + b_h,   x_t = one_hot(w_(t-1))",
    "h_t = sigmoid(a_t)",
    "y_t = W_hy h_t + b_y",
    "p_t = softmax(y_t)",
    "loss_t = -log p_t[w_t]",
    "L = (1/T) sum_t loss_t",
    "dL/dloss_t = 1/T",
    "dL/dy_t = dL/dloss_t (p_t - one_hot(w_t))",
    "dL/dh_t = W_hy^T dL/dy_t + W_hh^T dL/da_(t+1),   dL/dW_hy += dL/dy_t h_t^T",
    "dL/da_t = dL/dh_t * h_t * (1 - h_t)",
    "dL/dW_hh += dL/da_t h_(t-1)^T,   dL/db_h += dL/da_t,   dL/dW_xh[:, w_(t-1)] += dL/da_t",
)
FORWARD_EQUATION = {
    "Embedding W_xh": 0,
    "Linear W_hh": 0,
    "Add": 0,
    "Sigmoid": 1,
    "Linear W_hy": 2,
    "Softmax": 3,
    "CrossEntropy": 4,
    "Mean": 5,
}
BACKWARD_EQUATION = {
    "Mean": 6,
    "CrossEntropy": 7,
    "Softmax": 7,
    "Linear W_hy": 8,
    "Sigmoid": 9,
    "Add": 10,
    "Linear W_hh": 10,
    "Embedding W_xh": 10,
}

# What each kind of module does, in the lecture's words: {phase: {class name: sentence}}.
EXPLANATIONS: dict[str, dict[str, str]] = {
    "forward": {
        "Embedding": "W_xh x_t with x_t the one-hot vector of {token}: a matrix times a one-hot "
        "vector is just one column of the matrix, column {column}.",
        "Linear": "y = W x + b: a matrix times a vector, plus the bias.",
        "Add": "a_t = W_xh x_t + (W_hh h_t−1 + b_h): what the input says plus what the memory "
        "says.",
        "Sigmoid": "h = σ(a) = 1 / (1 + e^−a), entry by entry: every hidden unit squashed "
        "into (0, 1).",
        "Tanh": "h = tanh(a), entry by entry: every hidden unit squashed into (−1, 1).",
        "Softmax": "p_i = e^y_i / Σ_j e^y_j: scores become probabilities of the next "
        "character, all positive, summing to 1.",
        "CrossEntropy": "loss_t = −log p_t[{token}]: the surprise at the character that really "
        "came next; 0 if the model was sure of it.",
        "SoftmaxCrossEntropy": "loss_t = logsumexp(y_t) − y_t[{token}]: softmax and "
        "cross-entropy in one step.",
        "Mean": "L = (1/T) Σ_t loss_t: the mean surprise over the T predictions.",
    },
    "backward": {
        "Embedding": "dW_xh[:, {column}] += g: only the column of {token} gets a gradient. The "
        "input is a constant token, so nothing flows further back.",
        "Linear": "dW += g xᵀ and db += g (a parameter's gradient adds up over the time "
        "steps); dx = Wᵀ g flows back to the input.",
        "Add": "The gradient of a sum copies to both terms: each input receives g unchanged.",
        "Sigmoid": "da = g ⊙ h ⊙ (1 − h): the slope of the sigmoid where it was, times g.",
        "Tanh": "da = g ⊙ (1 − h²): the slope of tanh where it was, times g.",
        "Softmax": "dy = p ⊙ (g − ⟨g, p⟩): the softmax's Jacobian times g. Together with the "
        "cross-entropy that is (p − onehot(target)) / T.",
        "CrossEntropy": "dp = −g / p[{token}] at the target, 0 everywhere else: only the "
        "probability of the character that came next matters.",
        "SoftmaxCrossEntropy": "dy = g (p − onehot({token})).",
        "Mean": "Each loss_t receives g / T: every prediction counts equally.",
    },
}
READ_TWICE = (
    " {name} is read by {uses} modules: its gradient is the sum of what each use sends back "
    "(the multivariate chain rule)."
)


# --------------------------------------------------------------------------------------------
# The reply
# --------------------------------------------------------------------------------------------

Numbers = float | list[float] | list[list[float]]


class ArrayView(BaseModel):
    name: str = Field(description="e.g. 'h_2', or 'dh_2' for a gradient")
    shape: list[int]
    values: Numbers = Field(description=f"rounded to {DECIMALS} decimals")
    axes: list[Axis] = Field(description="what each axis counts: hidden units or characters")
    highlight: int | None = Field(
        None, description="the character (index on the vocab axis) this step singles out"
    )
    total: Numbers | None = Field(
        None,
        description="backward, for a value read more than once: its gradient summed over the "
        "uses replayed so far (values is this use's share)",
    )


class TapeStep(BaseModel):
    index: int
    phase: Literal["forward", "backward"]
    record: int = Field(description="position of the module on the tape (forward order)")
    module: str = Field(description="e.g. 'Linear W_hh'")
    time: int | None = Field(description="the time step t, or null for the final mean")
    equation: int | None = Field(description="index into equations")
    inputs: list[ArrayView] = Field(
        description="forward: the values read; backward: the gradients sent back to them"
    )
    output: ArrayView = Field(
        description="forward: the value written; backward: its gradient, as it arrived"
    )
    parameters: list[ArrayView] = Field(
        description="forward: the parameters read; backward: their gradients summed so far"
    )
    description: str = Field(description="the tape's own line for this step")
    explanation: str


class TimeStep(BaseModel):
    time: int
    input: str
    target: str


class TapeRun(BaseModel):
    text: str
    vocabulary: list[str]
    tokens: list[int]
    hidden_size: int
    seed: int
    time_steps: list[TimeStep]
    equations: list[str]
    steps: list[TapeStep]
    loss: float
    perplexity: float
    gradients: dict[str, Numbers]


def rounded(array: np.ndarray) -> Numbers:
    return (np.round(array, DECIMALS) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0


def view(
    name: str,
    array: np.ndarray,
    axes: Sequence[Axis],
    character: int | None = None,
    total: np.ndarray | None = None,
) -> ArrayView:
    """An array as the page shows it; `character` is marked when the last axis counts them."""
    return ArrayView(
        name=name,
        shape=list(array.shape),
        values=rounded(array),
        axes=list(axes),
        highlight=character if axes and axes[-1] == "vocab" else None,
        total=None if total is None else rounded(total),
    )


def value_axes(run: Unrolled) -> dict[int, tuple[Axis, ...]]:
    """What the axis of every value on the tape counts, by id(value), following the modules:
    a Linear or an Embedding gives its parameter's row axis, a scalar has none, and the others
    (Add, Sigmoid, Softmax) keep the axis of what they read."""
    axes: dict[int, tuple[Axis, ...]] = {id(run.h0): ("hidden",)}
    for record in run.tape.records:
        module = record.module
        if record.output.shape == ():
            axes[id(record.output)] = ()
        elif isinstance(module, Linear):
            axes[id(record.output)] = PARAMETER_AXES[module.weight.name][:1]
        elif isinstance(module, Embedding):
            axes[id(record.output)] = PARAMETER_AXES[module.table.name][:1]
        else:
            axes[id(record.output)] = axes[id(record.inputs[0])]
    return axes


def record_times(run: Unrolled) -> list[int | None]:
    """The time step of each record: step t ends with the record that gives loss_t; the final
    mean belongs to none."""
    times: list[int | None] = []
    time = 1
    for record in run.tape.records:
        in_a_step = time <= len(run.losses)
        times.append(time if in_a_step else None)
        if in_a_step and record.output is run.losses[time - 1]:
            time += 1
    return times


class TapeWalk:
    """The model run forward and backward on one text, turned into the steps the page plays."""

    def __init__(self, text: str, hidden_size: int, seed: int) -> None:
        self.text, self.hidden_size, self.seed = text, hidden_size, seed
        self.vocabulary = sorted(set(text))
        self.tokens = [self.vocabulary.index(character) for character in text]
        self.model = ElmanRNNLM(len(self.vocabulary), hidden_size, seed=seed)
        self.run = self.model.unroll(self.tokens)
        self.backward = backward_with_steps(self.run.tape, self.run.loss)
        records = self.run.tape.records
        self.position = {id(record): i for i, record in enumerate(records)}
        self.times = record_times(self.run)
        self.axes = value_axes(self.run)
        self.uses = Counter(id(value) for record in records for value in record.inputs)

    def reply(self) -> TapeRun:
        records, trace = self.run.tape.records, self.run.tape.trace
        forward = [
            (entry, record, None)
            for entry, record in zip(trace[: len(records)], records, strict=True)
        ]
        backward = [
            (entry, step.record, step)
            for entry, step in zip(trace[len(records) :], self.backward, strict=True)
        ]
        loss = float(self.run.loss.data)
        return TapeRun(
            text=self.text,
            vocabulary=self.vocabulary,
            tokens=self.tokens,
            hidden_size=self.hidden_size,
            seed=self.seed,
            time_steps=[
                TimeStep(time=t, input=self.text[t - 1], target=self.text[t])
                for t in range(1, len(self.text))
            ],
            equations=list(EQUATIONS),
            steps=[self.step(i, *parts) for i, parts in enumerate(forward + backward)],
            loss=round(loss, DECIMALS),
            perplexity=round(math.exp(loss), DECIMALS),
            gradients={name: rounded(p.grad) for name, p in self.model.params.items()},
        )

    def step(
        self, index: int, entry: TraceEntry, record: Record, backward: BackwardStep | None
    ) -> TapeStep:
        position = self.position[id(record)]
        inputs, output, parameters = self.views(entry, record, self.times[position], backward)
        equations = BACKWARD_EQUATION if backward else FORWARD_EQUATION
        return TapeStep(
            index=index,
            phase=entry.phase,
            record=position,
            module=entry.module,
            time=self.times[position],
            equation=equations.get(entry.module),
            inputs=inputs,
            output=output,
            parameters=parameters,
            description=entry.describe(),
            explanation=self.explain(entry, record),
        )

    def views(
        self,
        entry: TraceEntry,
        record: Record,
        time: int | None,
        backward: BackwardStep | None,
    ) -> tuple[list[ArrayView], ArrayView, list[ArrayView]]:
        """Inputs, output and parameters of one step: values forward, gradients backward.
        Scores and probabilities (y_t, p_t) mark the character to predict, w_t; a parameter
        marks the character an Embedding reads."""
        module = record.module
        input_names, output_name = shown_names(entry)
        target = None if time is None else self.tokens[time]
        token = getattr(module, "token", None)
        parameters = module_parameters(module)
        if backward is None:
            inputs = [
                view(name, value.data, self.axes[id(value)], target)
                for name, value in zip(input_names, record.inputs, strict=True)
            ]
            output = view(output_name, record.output.data, self.axes[id(record.output)], target)
            shown = [(p.name, p.value) for p in parameters]
        else:
            inputs = [
                view(
                    name,
                    grad,
                    self.axes[id(value)],
                    target,
                    total=total if self.uses[id(value)] > 1 else None,
                )
                for name, value, grad, total in zip(
                    input_names,
                    record.inputs,
                    backward.grad_inputs,
                    backward.input_totals,
                    strict=True,
                )
            ]
            output = view(output_name, backward.grad_output, self.axes[id(record.output)], target)
            shown = [(f"d{p.name}", backward.parameter_grads[p.name]) for p in parameters]
        params = [
            view(name, array, PARAMETER_AXES[p.name], token)
            for (name, array), p in zip(shown, parameters, strict=True)
        ]
        return inputs, output, params

    def explain(self, entry: TraceEntry, record: Record) -> str:
        module = record.module
        character = getattr(module, "token", getattr(module, "target", None))
        token = "" if character is None else f"'{self.vocabulary[character]}'"
        text = EXPLANATIONS[entry.phase].get(type(module).__name__, "")
        text = text.format(token=token, column=character)
        if entry.phase == "backward":
            for value in record.inputs:
                if self.uses[id(value)] > 1:
                    text += READ_TWICE.format(name=value.name, uses=self.uses[id(value)])
        return text


# --------------------------------------------------------------------------------------------
# The endpoints
# --------------------------------------------------------------------------------------------


@router.get("/api/tape", response_model=TapeRun)
def tape_steps(
    text: Annotated[
        str,
        Query(
            min_length=MIN_TEXT,
            max_length=MAX_TEXT,
            description="the sequence; its distinct characters are the vocabulary",
        ),
    ] = "to be",
    hidden: Annotated[int, Query(ge=MIN_HIDDEN, le=MAX_HIDDEN, description="hidden units H")] = 4,
    seed: Annotated[int, Query(ge=0, le=MAX_SEED, description="for the initial weights")] = 0,
) -> TapeRun:
    """The lecture's RNN language model run forward and backward on `text`, module by module.

    Forward steps come first, in the order the tape recorded them; then the backward steps
    replay the same modules in reverse. Backward steps carry gradients: `output` is the
    gradient that arrived, `inputs` what the module sent back to each of its inputs.
    """
    if not text.isprintable():
        raise HTTPException(422, "text: only printable characters (no tabs, new lines, controls)")
    return TapeWalk(text, hidden, seed).reply()


@router.get("/tape", response_class=HTMLResponse, include_in_schema=False)
def tape_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "tape.html",
        "tape",
        defaults={"text": "to be", "hidden": 4, "seed": 0},
        limits={
            "text": (MIN_TEXT, MAX_TEXT),
            "hidden": (MIN_HIDDEN, MAX_HIDDEN),
            "seed": (0, MAX_SEED),
        },
    )
