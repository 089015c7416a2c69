"""Health, models, samples (whole and streamed), excerpts: shapes, ranges, errors."""

import json
import shutil

import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT
from app.corpus import TEST_PLAYS
from app.web.main import create_app
from tests.conftest import BOTH

DATABASES = BOTH  # every test with the app runs on SQLite and on a real PostgreSQL


def test_healthz_counts_the_models(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["models"] == 1


def test_readyz_is_503_naming_the_waiting_keys_until_every_key_has_a_passage(
    tmp_path, ngram_models_dir, settings_factory
):
    from fastapi.testclient import TestClient

    from app.web.main import create_app

    cold = settings_factory(tmp_path / "cold", ngram_models_dir, pool_refill="off")
    with TestClient(create_app(cold)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "waiting",
            "models": 1,
            "keys": 2,
            "waiting": ["char-7gram-kn@0.8", "char-7gram-kn@1.0"],
        }
        assert client.get("/healthz").status_code == 200  # alive all the same


def test_readyz_is_200_once_the_pool_holds_a_passage_for_every_key(client, pool_waiter):
    pool_waiter(client, ready=2)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready" and response.json()["waiting"] == []


def test_models_lists_each_generator_with_its_figures(client):
    (model,) = client.get("/api/models").json()["models"]
    assert model["name"] == "char-7gram-kn"
    assert model["kind"] == "ngram" and model["unit"] == "char"
    assert model["parameters"]["order"] == 7
    assert model["test_bits_per_char"] == pytest.approx(2.1717, abs=1e-3)
    assert len(model["checkpoint_sha256"]) == 64


def test_a_sample_starts_with_its_prime_and_is_reproducible_from_its_seed(client):
    query = {"length": 60, "temperature": 0.9, "top_k": 20, "prime": "ROSALIND:\n", "seed": 7}
    first = client.get("/api/samples", params=query).json()
    again = client.get("/api/samples", params=query).json()
    assert first["text"] == again["text"]
    assert first["text"].startswith("ROSALIND:\n")
    assert len(first["text"]) == len("ROSALIND:\n") + 60
    assert first["seed"] == 7 and first["model"] == "char-7gram-kn"
    assert first["params"]["top_k"] == 20
    span = first["longest_copied_span"]
    assert span["text"] in first["text"] and span["length"] == len(span["text"])


def test_a_sample_without_a_seed_reports_the_one_it_drew(client):
    body = client.get("/api/samples", params={"length": 30}).json()
    again = client.get("/api/samples", params={"length": 30, "seed": body["seed"]}).json()
    assert again["text"] == body["text"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"length": 0}, "length"),
        ({"length": 100_000}, "length"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"seed": -1}, "seed"),
        ({"prime": "x" * 1001}, "prime"),
    ],
)
def test_bad_sample_parameters_are_422_naming_the_field(client, query, field):
    for path in ("/api/samples", "/api/samples/stream"):
        response = client.get(path, params=query)
        assert response.status_code == 422
        assert field in json.dumps(response.json()["detail"])


@pytest.mark.parametrize(
    ("sample_model", "expected"),
    [("word-5gram-kn", "word-5gram-kn"), ("no-such-model", "char-7gram-kn")],
)
def test_samples_default_to_the_sample_model_else_the_best_model(
    tmp_path, shipped_ngram, settings_factory, sample_model, expected
):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(shipped_ngram, models)
    shutil.copy(PROJECT_ROOT / "models" / "word-5gram-kn.safetensors", models)
    settings = settings_factory(
        tmp_path / "data", models, sample_model=sample_model, pool_refill="off"
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/samples", params={"length": 20}).json()["model"] == expected
        page = client.get("/explore").text
        assert f'<option value="{expected}" selected>' in page
        assert page.count(" selected>") == 1


def test_an_unknown_model_is_404_listing_the_loaded_ones(client):
    response = client.get("/api/samples", params={"model": "gpt-5"})
    assert response.status_code == 404
    assert "gpt-5" in response.json()["detail"] and "char-7gram-kn" in response.json()["detail"]


def parse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        name, data = "message", None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
        events.append((name, data))
    return events


def test_the_stream_sends_each_piece_with_its_die_then_the_whole_passage(client):
    query = {"length": 40, "seed": 11, "prime": "HAMLET:\n", "top": 3, "temperature": 0.8}
    response = client.get("/api/samples/stream", params=query)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_events(response.text)
    *messages, (last_name, done) = events
    assert last_name == "done"
    assert all(name == "message" for name, _ in messages)
    streamed = "".join(data["text"] for _, data in messages)
    whole = client.get("/api/samples", params={k: v for k, v in query.items() if k != "top"})
    assert streamed == done["text"] == whole.json()["text"]
    dice = [data["top"] for _, data in messages[1:]]  # the prime has no die
    assert dice and all(1 <= len(die) <= 3 for die in dice)
    for die in dice:
        probabilities = [entry["p"] for entry in die]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1 + 1e-9
    # the piece drawn is always a face of the die it was rolled from, when it is in the top 3
    assert any(data["text"] in [e["token"] for e in data["top"]] for _, data in messages[1:])


def test_lexicon_true_spells_only_words_of_the_training_plays_and_the_die_shows_the_mask(
    client, plays_corpus
):
    from app.corpus import WORD
    from app.lm.constraints import training_lexicon

    lexicon = training_lexicon(plays_corpus)
    query = {"length": 300, "seed": 8, "temperature": 1.4, "lexicon": "true"}
    body = client.get("/api/samples", params=query).json()
    assert body["params"]["lexicon"] is True
    words = WORD.findall(body["text"])[:-1]  # the length may cut the last one short
    assert words and all(word in lexicon for word in words)
    free = client.get("/api/samples", params={**query, "lexicon": "false"}).json()
    assert free["params"]["lexicon"] is False
    assert any(word not in lexicon for word in WORD.findall(free["text"])[:-1])  # hot: it invents
    events = parse_events(client.get("/api/samples/stream", params={**query, "top": 20}).text)
    *messages, (_, done) = events
    assert done["text"] == body["text"] and done["params"]["lexicon"] is True
    prefix = ""
    for _, data in messages:
        for entry in data["top"]:
            # every face of the die continues the word under way towards a known word
            token = entry["token"]
            if token.isalpha() or token == "'":
                assert lexicon.has_prefix(prefix + token), (prefix, token)
        for character in data["text"]:
            prefix = prefix + character if character.isalpha() or character == "'" else ""


def test_a_bad_lexicon_value_is_a_422_naming_it(client):
    response = client.get("/api/samples", params={"lexicon": "maybe"})
    assert response.status_code == 422 and "lexicon" in response.text


def test_an_excerpt_comes_from_the_test_plays_with_its_attribution(client):
    body = client.get("/api/excerpts", params={"length": 300, "seed": 5}).json()
    assert body["play_slug"] in TEST_PLAYS
    assert body["split"] == "test"
    assert abs(len(body["text"]) - 300) <= 0.15 * 300
    assert body["text"].split("\n", 1)[0].rstrip(":") in body["speakers"]
    assert body["play"] in body["attribution"]
    assert client.get("/api/excerpts", params={"length": 300, "seed": 5}).json() == body


def test_an_excerpt_length_out_of_range_is_422(client):
    response = client.get("/api/excerpts", params={"length": 5})
    assert response.status_code == 422
    assert "length" in json.dumps(response.json()["detail"])


def test_a_prime_with_a_control_character_is_refused_naming_it(client):
    response = client.get("/api/samples", params={"prime": "ROSALIND:\x1b[31m", "length": 5})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("prime: must not hold U+001B")
    stream = client.get("/api/samples/stream", params={"prime": "a\x00", "length": 5})
    assert stream.status_code == 422 and "U+0000" in stream.json()["detail"]


def test_a_prime_keeps_its_lines_with_any_line_ending(client):
    body = client.get("/api/samples", params={"prime": "ROSALIND:\r\nI", "length": 5}).json()
    assert body["params"]["prime"] == "ROSALIND:\nI" and body["text"].startswith("ROSALIND:\nI")
