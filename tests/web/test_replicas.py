"""Two real `realornn serve` processes, each with its own data folder, on one real PostgreSQL
database: a classroom created on replica A is joined, voted in and revealed through replica B,
and the projector's event stream on A sees B's vote within a second (LISTEN/NOTIFY). Then the
shipped nginx config (deploy/nginx.conf) in front of both: a player's cookie is good on either
replica, and the event stream comes through unbuffered."""

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
SECRET_KEY = "replicas-share-this-key"
NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx.conf"


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
            "SECRET_KEY": SECRET_KEY,  # the same on every replica, as docs/deploy.md says
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


# -- the shipped nginx config in front of both -------------------------------------------------
def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        reason = "nginx is missing (apt-get install nginx) to test deploy/nginx.conf"
        if os.environ.get("REALORNN_REQUIRE_PROXY"):
            pytest.fail(reason)  # CI installs it
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def proxy(replicas, tmp_path_factory) -> Iterator[str]:
    """nginx with deploy/nginx.conf as it ships, but for the replicas' addresses and a free
    port, inside a minimal main config that keeps every file in a temporary folder."""
    binary = nginx_binary()
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = NGINX_CONF.read_text()
    upstreams = [line for line in site.splitlines() if line.strip().startswith("server app")]
    assert len(upstreams) == 2, "deploy/nginx.conf: one upstream line per replica"
    for line, replica in zip(upstreams, replicas, strict=True):
        site = site.replace(line, line.replace(line.split()[1], f"127.0.0.1:{replica.port}"))
    assert "listen 80;" in site
    (folder / "site.conf").write_text(site.replace("listen 80;", f"listen 127.0.0.1:{port};"))
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (folder / "nginx.conf").write_text(
        # as root, nginx's workers would run as `nobody`, who cannot write into pytest's folder
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log off;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  include {folder / 'site.conf'};\n"
        "}\n"
    )
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {process.stderr.read().decode()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("nginx did not answer in 20 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_player_plays_on_through_the_proxy_whichever_replica_answers(proxy):
    with httpx.Client(base_url=proxy) as player:
        for _ in range(6):  # round robin: both replicas answer this player
            made = player.post("/api/rounds", json={"mode": "pair"})
            assert made.status_code == 201, made.text
            guessed = player.post(
                f"/api/rounds/{made.json()['round_id']}/guess", json={"choice": 0}
            )
            assert guessed.status_code == 200, guessed.text
        assert player.get("/api/players/me").json()["guesses"] == 6  # one player, not six


def test_the_projector_stream_comes_through_the_proxy_unbuffered(proxy, replicas):
    with httpx.Client(base_url=proxy) as client:
        created = client.post("/api/rooms", json={"rounds": 1}).json()
        code, host = created["code"], {"authorization": f"Bearer {created['host_token']}"}
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        threading.Thread(
            target=watch, args=(f"{proxy}/api/rooms/{code}/events", events, stop), daemon=True
        ).start()
        next_state(events, lambda s: s["status"] == "lobby")
        joined = client.post(f"/api/rooms/{code}/players", json={"nickname": "Touchstone"})
        phone = {"authorization": f"Bearer {joined.json()['player_token']}"}
        round_id = client.post(f"/api/rooms/{code}/rounds", headers=host).json()["round_id"]
        next_state(events, lambda s: s["status"] == "voting")
        sent = time.monotonic()
        vote = client.post(
            f"/api/rooms/{code}/rounds/{round_id}/votes", json={"choice": 0}, headers=phone
        )
        assert vote.status_code == 201, vote.text
        arrived, _ = next_state(events, lambda s: s["round"]["votes"] == 1)
        stop.set()
        assert arrived - sent < 1.0


def test_a_large_body_through_the_proxy_gets_the_servers_own_413(proxy):
    response = httpx.post(f"{proxy}/api/rounds", json={"model": "x" * 30_000})
    assert response.status_code == 413 and response.json()["detail"].startswith("body:")
