"""The "under the hood" view: GET /api/tape plays app/lm/tape.py's tape step by step, GET /tape
shows it. The numbers must be the lecture's own (the same tape, the same gradients)."""

import json
import re

import numpy as np
import pytest

from app.lm.tape import ElmanRNNLM, backward_with_steps
from app.web.routers.tape import EQUATIONS


def tape_run(client, **params) -> dict:
    response = client.get("/api/tape", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_default_run_has_the_documented_shape(client):
    body = tape_run(client)
    assert body["text"] == "to be"
    assert body["vocabulary"] == [" ", "b", "e", "o", "t"]  # the text's own characters, sorted
    assert body["tokens"] == [4, 3, 0, 1, 2]
    assert body["hidden_size"] == 4 and body["seed"] == 0
    assert [(s["input"], s["target"]) for s in body["time_steps"]] == [
        ("t", "o"),
        ("o", " "),
        (" ", "b"),
        ("b", "e"),
    ]
    assert body["equations"] == list(EQUATIONS)
    assert body["perplexity"] == pytest.approx(np.exp(body["loss"]), abs=1e-3)
    assert set(body["gradients"]) == {"W_xh", "W_hh", "b_h", "W_hy", "b_y"}
    assert np.shape(body["gradients"]["W_xh"]) == (4, 5)
    first = body["steps"][0]
    assert first == first | {"index": 0, "phase": "forward", "module": "Embedding W_xh", "time": 1}
    assert first["description"] == "forward  Embedding W_xh: (no inputs) -> W_xh x_1 (4,)"
    assert first["parameters"][0]["name"] == "W_xh" and first["parameters"][0]["highlight"] == 4
    for step in body["steps"]:
        for view in [*step["inputs"], step["output"], *step["parameters"]]:
            assert {"name", "shape", "values", "axes"} <= set(view)
            assert list(np.shape(view["values"])) == view["shape"] == list(view["shape"])
            assert len(view["axes"]) == len(view["shape"])


def test_forward_steps_come_first_and_backward_replays_them_in_reverse(client):
    steps = tape_run(client, text="hello", hidden=3)["steps"]
    assert [s["index"] for s in steps] == list(range(len(steps)))
    phases = [s["phase"] for s in steps]
    half = len(steps) // 2
    assert phases == ["forward"] * half + ["backward"] * half
    forward, backward = steps[:half], steps[half:]
    assert [s["record"] for s in forward] == list(range(half))
    assert [s["record"] for s in backward] == list(reversed(range(half)))
    assert [s["module"] for s in backward] == [s["module"] for s in reversed(forward)]
    assert [s["time"] for s in backward] == [s["time"] for s in reversed(forward)]
    # Per time step: the lecture's seven modules; then the mean over the four predictions.
    assert [s["module"] for s in forward[:7]] == [
        "Embedding W_xh",
        "Linear W_hh",
        "Add",
        "Sigmoid",
        "Linear W_hy",
        "Softmax",
        "CrossEntropy",
    ]
    assert forward[-1]["module"] == "Mean" and forward[-1]["time"] is None
    assert [s["time"] for s in forward[:-1]] == [t for t in range(1, 5) for _ in range(7)]


def test_backward_steps_name_the_gradients_of_the_forward_values(client):
    steps = tape_run(client)["steps"]
    half = len(steps) // 2
    for forward, backward in zip(steps[:half], reversed(steps[half:]), strict=True):
        assert backward["output"]["shape"] == forward["output"]["shape"]
        assert backward["output"]["name"].startswith("d")
        assert [v["shape"] for v in backward["inputs"]] == [v["shape"] for v in forward["inputs"]]
        assert [p["name"] for p in backward["parameters"]] == [
            f"d{p['name']}" for p in forward["parameters"]
        ]
    linear_hh = next(s for s in steps[half:] if s["module"] == "Linear W_hh" and s["time"] == 4)
    assert linear_hh["description"] == "backward Linear W_hh: d(W_hh h_3 + b_h) (4,) -> dh_3 (4,)"


def test_the_gradients_are_the_ones_the_lecture_tape_computes(client):
    body = tape_run(client, text="hello, world", hidden=5, seed=7)
    vocabulary = sorted(set("hello, world"))
    model = ElmanRNNLM(len(vocabulary), 5, seed=7)
    loss, gradients = model.loss_and_gradients([vocabulary.index(c) for c in "hello, world"])
    assert body["loss"] == round(loss, 4)
    for name, gradient in gradients.items():
        np.testing.assert_allclose(body["gradients"][name], np.round(gradient, 4), atol=1e-12)
    # The last backward step that touches a parameter shows its whole gradient.
    last_dw_hh = [
        p["values"]
        for s in body["steps"]
        if s["phase"] == "backward"
        for p in s["parameters"]
        if p["name"] == "dW_hh"
    ][-1]
    np.testing.assert_allclose(last_dw_hh, np.round(gradients["W_hh"], 4), atol=1e-12)


def test_a_value_read_twice_shows_its_gradient_summed_over_the_uses(client):
    steps = tape_run(client)["steps"]
    model = ElmanRNNLM(5, 4, seed=0)
    run = model.unroll([4, 3, 0, 1, 2])
    backward_with_steps(run.tape, run.loss)
    dh_2 = [v for s in steps for v in s["inputs"] if v["name"] == "dh_2"]
    assert len(dh_2) == 2  # sent back by Linear W_hh at t = 3, then by Linear W_hy at t = 2
    first, second = dh_2
    np.testing.assert_allclose(first["total"], first["values"], atol=1e-12)
    np.testing.assert_allclose(
        second["total"], np.round(run.hidden[1].grad, 4), atol=1e-12
    )  # both shares added: the whole dL/dh_2
    assert [v["total"] for s in steps for v in s["inputs"] if v["name"] == "dh_4"] == [None]


def test_the_target_and_the_input_character_are_marked(client):
    steps = tape_run(client)["steps"]
    cross_entropy = next(s for s in steps if s["module"] == "CrossEntropy")
    assert cross_entropy["inputs"][0]["axes"] == ["vocab"]
    assert cross_entropy["inputs"][0]["highlight"] == 3  # 'o' follows 't'
    assert "'o'" in cross_entropy["explanation"]
    softmax = next(s for s in steps if s["module"] == "Softmax" and s["phase"] == "backward")
    assert softmax["time"] == 4 and softmax["inputs"][0]["highlight"] == 2  # 'e' follows 'b'
    assert softmax["output"]["highlight"] == 2
    hidden_views = [v for s in steps for v in s["inputs"] if v["axes"] == ["hidden"]]
    assert hidden_views and all(v["highlight"] is None for v in hidden_views)
    embedding = steps[0]
    assert embedding["parameters"][0]["axes"] == ["hidden", "vocab"]
    assert "'t'" in embedding["explanation"]


def test_any_printable_text_works_with_its_own_vocabulary(client):
    body = tape_run(client, text="Ça va? 🙂", hidden=2, seed=2**31 - 1)
    assert body["vocabulary"] == sorted(set("Ça va? 🙂"))
    assert len(body["time_steps"]) == len("Ça va? 🙂") - 1
    body = tape_run(client, text="aa")  # one character: the model is sure, the loss is 0
    assert body["vocabulary"] == ["a"] and body["loss"] == 0.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"text": "a"}, "text"),
        ({"text": "x" * 13}, "text"),
        ({"text": "to\nbe"}, "text"),
        ({"text": "tab\there"}, "text"),
        ({"text": "bell\x07"}, "text"),
        ({"hidden": 1}, "hidden"),
        ({"hidden": 9}, "hidden"),
        ({"hidden": "four"}, "hidden"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(client, params, field):
    response = client.get("/api/tape", params=params)
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])


def test_the_page_renders_the_form_the_player_and_the_equations(client):
    response = client.get("/tape")
    assert response.status_code == 200
    html = response.text
    assert '<form id="tape-form"' in html
    for control in ('name="text"', 'name="hidden"', 'name="seed"', 'id="tape-play"'):
        assert control in html
    assert '<script src="/static/tape.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither
    equations = re.findall(r'data-equation="(\d+)"', html)
    assert [int(i) for i in equations] == list(range(len(EQUATIONS)))
    assert "<sub>" in html


def test_the_page_script_is_served(client):
    response = client.get("/static/tape.js")
    assert response.status_code == 200
    assert "innerHTML" not in response.text
