"""Two real `realornn serve` processes, each with its own data folder, on one real PostgreSQL
database: a classroom created on replica A is joined, voted in and revealed through replica B,
and the projector's event stream on A sees B's vote within a second (LISTEN/NOTIFY)."""

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from tests.web.conftest import free_port

STARTUP_TIMEOUT = 60


class Replica:
    def __init__(self, folder: Path, database_url: str, models_dir: Path):
        folder.mkdir()
        self.log_path = folder / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(folder),
            "MODELS_DIR": str(models_dir),
            "POOL_TARGET": "2",
            "OMP_NUM_THREADS": "1",
        }
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        """Until /readyz says 200: the models loaded and a passage for every key."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"replica exited {self.process.returncode}:\n{self.log_path.read_text()}"
                )
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        pytest.fail(f"replica not ready in {STARTUP_TIMEOUT} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def replicas(postgres_server, tmp_path_factory, shipped_ngram) -> Iterator[tuple[Replica, Replica]]:
    folder = tmp_path_factory.mktemp("replicas")
    models_dir = folder / "models"
    models_dir.mkdir()
    shutil.copy(shipped_ngram, models_dir / shipped_ngram.name)
    url = postgres_server.create_database("replicas")
    # started together: they migrate one after the other (an advisory lock) and share the bank
    pair = (Replica(folder / "a", url, models_dir), Replica(folder / "b", url, models_dir))
    try:
        for replica in pair:
            replica.wait_ready()
        yield pair
    finally:
        for replica in pair:
            replica.stop()


def watch(url: str, events: queue.Queue, stop: threading.Event) -> None:
    """The projector: read the room's event stream, put (arrival time, state) on `events`."""
    timeout = httpx.Timeout(5, read=30)
    with contextlib.suppress(httpx.TransportError):  # the replicas stopping at the end
        read_events(url, timeout, events, stop)


def read_events(url: str, timeout: httpx.Timeout, events: queue.Queue, stop: threading.Event):
    with httpx.Client(timeout=timeout) as client, client.stream("GET", url) as response:
        event = None
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "state":
                events.put((time.monotonic(), json.loads(line[6:])))


def next_state(events: queue.Queue, test, timeout: float = 5.0) -> tuple[float, dict]:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("the projector saw no such state")
        arrived, state = events.get(timeout=left)
        if test(state):
            return arrived, state


def test_a_classroom_made_on_one_replica_is_played_through_the_other(replicas):
    a, b = replicas
    with httpx.Client(base_url=a.url) as on_a, httpx.Client(base_url=b.url) as on_b:
        created = on_a.post("/api/rooms", json={"rounds": 2})
        assert created.status_code == 201, created.text
        code, host = (
            created.json()["code"],
            {"authorization": f"Bearer {created.json()['host_token']}"},
        )

        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        projector = threading.Thread(
            target=watch, args=(f"{a.url}/api/rooms/{code}/events", events, stop), daemon=True
        )
        projector.start()
        next_state(events, lambda s: s["status"] == "lobby")

        phones = []
        for number, nickname in enumerate(("Celia", "Phebe", "Audrey"), start=1):
            joined = on_b.post(f"/api/rooms/{code}/players", json={"nickname": nickname})
            assert joined.status_code == 201, joined.text
            phones.append({"authorization": f"Bearer {joined.json()['player_token']}"})
            next_state(events, lambda s, n=number: s["players"] == n)

        started = on_b.post(f"/api/rooms/{code}/rounds", headers=host)
        assert started.status_code == 201, started.text
        round_id = started.json()["round_id"]
        votes_url = f"/api/rooms/{code}/rounds/{round_id}/votes"
        next_state(events, lambda s: s["status"] == "voting")

        # a poll once a second would be seen within 1 s on average 0.5: NOTIFY is there at once
        lags = []
        for number, phone in enumerate(phones, start=1):
            sent = time.monotonic()
            vote = on_b.post(votes_url, json={"choice": 1}, headers=phone)
            assert vote.status_code == 201, vote.text
            arrived, _ = next_state(events, lambda s, n=number: s["round"]["votes"] == n)
            lags.append(arrived - sent)
        assert max(lags) < 0.5, f"B's votes reached A's projector after {lags} s"

        revealed = on_b.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=host)
        assert revealed.status_code == 200, revealed.text
        _, state = next_state(events, lambda s: s["status"] == "revealed")
        assert state["round"]["reveal"] is not None
        stop.set()

        seen_on_a = on_a.get(f"/api/rooms/{code}", headers=phones[0]).json()
        assert seen_on_a["you"]["role"] == "player" and seen_on_a["round"]["votes"] == 3


def test_one_refiller_works_for_both_replicas(replicas):
    a, b = replicas
    logs = [replica.log_path.read_text() for replica in (a, b)]
    refilling = [log.count("passage pool: refilling in process") for log in logs]
    assert sorted(refilling) == [0, 1], logs  # the other waits for the advisory lock
