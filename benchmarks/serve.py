"""How much load does the game server take? A bounded load run against a real uvicorn, next to
the framework's own ceiling, and a check that not one acknowledged guess was lost.

Run from the repository root:

    .venv/bin/python benchmarks/serve.py                    # 32 players x 2000 rounds (~70 s)
    .venv/bin/python benchmarks/serve.py --json             # the same, as JSON on stdout
    .venv/bin/python benchmarks/serve.py --runs 5           # five runs; medians, goals met in k
    .venv/bin/python benchmarks/serve.py --blocks 1         # the game, then the bare endpoint
    .venv/bin/python benchmarks/serve.py --workers 2 --clients 64 --cycles 4000
    .venv/bin/python benchmarks/serve.py --models char-7gram-kn,char-lstm-2x512 --warmup 0.5

What it does, in one process (the load generator) and two server subprocesses:
 1. The game. `python -m app.cli serve --port P --log-level warning --workers N` with a fresh
    DATA_DIR and DATABASE_URL (a SQLite file) in a temporary folder, and MODELS_DIR a temporary
    folder of symlinks to the chosen checkpoints (default: the shipped n-grams). It waits for
    /healthz, then until the passage pool holds --warmup of its full size (POOL_TARGET unserved
    passages for every (model, temperature) key), so rounds are measured against a warm pool,
    not against generation. --clients simulated players (one httpx.AsyncClient each, so each
    keeps its own keep-alive connection and player) share --cycles cycles; a cycle is
    POST /api/rounds {"mode": "pair"} then POST /api/rounds/{id}/guess with a random choice.
 2. The ceiling. A bare FastAPI app whose endpoint does no work (`GET /bare` -> {}, an async
    def in `make_bare_app` below; --bare-sync: `GET /bare-sync`, a plain def that runs in the
    threadpool), served by uvicorn in a subprocess with the same workers and log level, hit by
    the same number of clients with the same number of requests (2 x cycles). --bare-like-game:
    `POST /bare` with a round's JSON body and a player cookie instead, to see how much of the
    gap is the shape of the game's requests; the goals are judged against GET /bare either way.
 3. The measurement. Each client first runs one job (a cycle, a bare request) unmeasured: its
    connection is open and the server has run its code once. Then each server takes its share
    in --blocks blocks, interleaved game, bare, bare, game, game, bare, ... (ABBA), so that a
    slow spell of this shared machine, or a drift, falls on both alike (the bare endpoint
    alone moved between 1,190 and 1,760 requests/s from one run to the next on 2026-11-30).
    Two blocks by default: a game block then lasts longer than the 2 s the refiller defers to
    the players at most, so it makes passages during the game as often as in one long run
    (shorter blocks would hide that cost from the game).
    Before a bare block that follows a game block the game's pool refills, so that its
    refiller makes no passages while the bare endpoint is measured and every game block starts
    from a full pool. Every request's latency is recorded, and every cycle's, with this
    process's garbage collector off while a block runs (a full collection, 30-50 ms, would
    hold up all 32 requests in flight: a stall of the load generator's own, right at the p99).
    Each block starts with every client sending at once; that first wave (one job per client
    per block) counts in throughput, CPU and the books, and is left out of the latency
    percentiles, which describe steady play (run_block; the p99 with it is printed beside).
    `--trace FILE` writes every request to a CSV. A player's cookie, set by its first answer,
    is then sent as a plain Cookie header, the request bodies are encoded once and the answers
    are parsed with orjson: the bytes a browser sends and reads, without the per-request work
    of Python's http.cookiejar and json (client work that a browser does on its own machine,
    and that only the game's requests carry: a guess's answer is ~6 KB of JSON, 0.12 ms to
    parse with json, 0.03 with orjson).
 4. The books. Acknowledged guesses (200 answers) against GET /api/stats (overall guesses),
    against the rows of GET /api/export/guesses.json, and, after the server has stopped,
    against the rows of the guesses table read straight from the SQLite file (and the players'
    guess counters, and the rounds marked guessed). All must be equal: not one guess lost,
    none counted twice. An answer that sets a new player cookie after the warm-up counts as an
    error (the server would have forgotten a player).
For both, the CPU time each process used while the clock ran, per request: the load generator's
(time.process_time), the server's and the refiller's (/proc, on Linux). A process near 1000 /
(requests/s) ms is using a whole core; that alone does not make it the bottleneck (the load
generator spends more per request the slower the server answers: docs/serve-benchmark.md).

The goals: game throughput at least half the bare endpoint's, and game p99 at most twice the
bare p99. Everything shares this machine's cores: the load generator (a Python process that
itself needs a whole core, more per game request than per bare one), the server and, in the
game, the pool's refiller (a process at nice 19 that makes passages while the players leave it
room). So the figures are a floor for a dedicated server; the ratios are the point, since both
servers face the same client.
docs/serve-benchmark.md has a run's results and what they mean.
"""

import argparse
import asyncio
import functools
import gc
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = ("char-7gram-kn", "word-5gram-kn")
PLAYER_COOKIE = "realornn_player"
# the request bodies, encoded once (as a browser's fetch() would, the encoding is the client's)
ROUND_BODY = json.dumps({"mode": "pair"}).encode()
GUESS_BODIES = tuple(json.dumps({"choice": choice}).encode() for choice in (0, 1))
THROUGHPUT_GOAL = 0.5  # game requests/s over bare requests/s, at least
P99_GOAL = 2.0  # game p99 over bare p99, at most


# -- the bare app: the framework's ceiling ------------------------------------------------------
def make_bare_app():
    from fastapi import FastAPI

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/bare")
    async def bare() -> dict:
        return {}

    @app.get("/bare-sync")
    def bare_sync() -> dict:  # a plain def runs in the threadpool, as the game's endpoints do
        return {}

    @app.post("/bare")
    async def bare_post(body: dict) -> dict:  # --bare-like-game: a round's request, no work
        return {}

    return app


def run_bare_server(port: int, workers: int, log_level: str) -> None:
    import uvicorn

    # An import string, so that --workers > 1 works: the workers import this file as `serve`.
    uvicorn.run(
        "serve:make_bare_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level=log_level,
    )


# -- servers -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess in its own session; stopped with SIGINT (uvicorn's Ctrl+C), then
    SIGKILL of its process group if it lingers."""

    def __init__(
        self, name: str, command: list[str], env: dict, log_path: Path, cwd: Path = REPO_ROOT
    ):
        self.name, self.log_path = name, log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int | None:
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def session_processes(self) -> list[tuple[int, list[str]]]:
        """(pid, /proc stat fields from the third on) of every process in the server's session:
        uvicorn and its workers, and the pool's refiller. Linux only (/proc); empty elsewhere."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue  # gone meanwhile
            fields = text[text.rindex(")") + 2 :].split()  # from field 3, after "pid (comm) "
            if int(fields[3]) == self.process.pid:  # field 6, the session id
                found.append((int(stat.parent.name), fields))
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by the server's processes, which share its
        session: {"server": ..., "refiller": ...} (the pool's refiller is the process at nice
        19; uvicorn's workers are the server). Linux only (/proc); empty elsewhere."""
        totals: dict[str, float] = {}
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        for _, fields in self.session_processes():
            kind = "refiller" if int(fields[16]) >= 19 else "server"  # field 19, nice
            totals[kind] = totals.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        return totals

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class BenchmarkError(RuntimeError):
    pass


def wait_until(server: Server, url: str, ready, timeout: float, what: str) -> dict:
    """Poll a JSON url until ready(body) is true; the last body."""
    import httpx

    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchmarkError(
                f"{server.name} server exited ({server.process.returncode}) while waiting for "
                f"{what}:\n{server.tail()}"
            )
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                body = response.json()
                if ready(body):
                    return body
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise BenchmarkError(f"no {what} after {timeout:.0f} s (last answer: {body}):\n{server.tail()}")


# -- the load ------------------------------------------------------------------------------
KINDS = ("round", "guess", "cycle", "bare")


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        # each block's first wave (a player's first job in it, all sent at once): counted in
        # throughput and the books, left out of the latency percentiles (see run_block)
        self.first_wave: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.statuses: dict[str, Counter] = {
            "round": Counter(),
            "guess": Counter(),
            "bare": Counter(),
        }
        self.errors: Counter = Counter()  # exceptions (timeouts, resets) by kind
        self.client_cpu = 0.0  # seconds of CPU the load generator used while the clock ran
        self.wall = 0.0  # seconds the clock ran, over all blocks
        self.server_cpu: dict[str, float] = {}  # CPU seconds of the server's processes, the same
        self.new_cookies = 0  # answers after the warm-up that set a cookie (none expected)
        self.warmup: Tally | None = None  # the one job per client before the clock started
        self.acknowledged = 0  # guesses answered 200
        self.correct = 0
        # (kind, started, latency, in a first wave), for --trace
        self.trace: list[tuple[str, float, float, bool]] = []

    def record(self, kind: str, started: float, status: int | None, steady: bool = True) -> None:
        latency = time.perf_counter() - started
        self.add_latency(kind, latency, steady)
        self.trace.append((kind, started, latency, not steady))
        if status is not None:
            self.statuses[kind][status] += 1

    def add_latency(self, kind: str, latency: float, steady: bool = True) -> None:
        (self.latencies if steady else self.first_wave)[kind].append(latency)

    def requests(self, kind: str) -> int:
        return len(self.latencies[kind]) + len(self.first_wave[kind])


async def open_players(
    base_url: str, clients: int, job, timeout: float, headers: dict[str, str]
) -> tuple[list, Tally]:
    """`clients` clients (one httpx.AsyncClient each: its own connection and player cookie),
    each having run `job` once, recorded in the returned warm-up Tally: the connections are
    open and the server has run its code once, so the blocks measure the steady state."""
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    players = [
        httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, headers=headers)
        for _ in range(clients)
    ]
    warmup = Tally()
    async with asyncio.TaskGroup() as setup:
        for client in players:
            setup.create_task(job(client, warmup))
    for client in players:
        # A player's cookie, set by its first answer, goes on as a plain header from here:
        # the same bytes a browser sends, without the matching Python's http.cookiejar does for
        # every request (a cost of simulating 32 browsers in this process, not the server's).
        if PLAYER_COOKIE in client.cookies:
            client.headers["cookie"] = f"{PLAYER_COOKIE}={client.cookies[PLAYER_COOKIE]}"
            client.cookies.clear()
    return players, warmup


async def run_block(players: list, jobs: int, job, tally: Tally) -> None:
    """The players share `jobs` calls of `job(client, tally, steady)`, as fast as the server
    answers; the wall and CPU time go into `tally`.

    A block starts with every player sending at once, a burst that steady play (players who
    started at different times) never has: the last of those first requests waits for the load
    generator to send all of them and the server to answer all of them. So each player's first
    job in a block is recorded as its first wave (steady=False): counted in throughput, CPU and
    the books like any other, left out of the latency percentiles, which describe the steady
    state. That is `clients` jobs per block for either server; the summary gives the p99 with
    them too. (On 2026-11-30, 31 of the game's 40 slowest requests in a run were the first waves
    of its two blocks, and 32 of the bare endpoint's 40 in another.)"""
    remaining = jobs

    async def player(client) -> None:
        nonlocal remaining
        steady = False
        while remaining > 0:
            remaining -= 1  # single-threaded event loop: no lock needed
            await job(client, tally, steady)
            steady = True

    # The load generator's own garbage collector must not show in the servers' figures: a full
    # collection here (30-50 ms, about once a run) holds up every request in flight at once,
    # 32 of the 4000, right at the p99. Off while the clock runs; refcounting still frees.
    gc.collect()
    gc.disable()
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        async with asyncio.TaskGroup() as group:
            for client in players:
                group.create_task(player(client))
        tally.wall += time.perf_counter() - started
        tally.client_cpu += time.process_time() - cpu_started
    finally:
        gc.enable()


class PoolRefilled:
    """wait_until's test between blocks: the pool holds `want` passages again, or it has not
    grown for STALLED_SECONDS. The latter when the bank is at POOL_BANK_MAX (--pool-bank-max
    equal to --pool-target: the refiller makes no more, and rounds serve passages again), longer
    than the refiller's own pauses (2 s at most between checks, 2 s of deferral) and than an
    RNN takes for a passage here."""

    STALLED_SECONDS = 10.0

    def __init__(self, want: int):
        self.want, self.best, self.stalled = want, -1, False
        self.since = time.monotonic()

    def __call__(self, health: dict) -> bool:
        ready = health.get("pool_ready", 0)
        if ready >= self.want:
            return True
        if ready > self.best:
            self.best, self.since = ready, time.monotonic()
        self.stalled = time.monotonic() - self.since >= self.STALLED_SECONDS
        return self.stalled


def block_order(blocks: int) -> list[str]:
    """Which server each block loads: game, bare, then bare, game, and so on (ABBA), so that a
    slow spell of this shared machine, or a drift, falls on both alike."""
    order: list[str] = []
    for pair in range(blocks):
        order += ["game", "bare"] if pair % 2 == 0 else ["bare", "game"]
    return order


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def measure(
    args, game: "Server", game_url: str, want: int, bare: "Server", bare_url: str, bare_job
):
    """Both servers' load, in --blocks blocks each, interleaved (block_order). Before a bare
    block that follows a game block the game's pool refills (wait_until), so its refiller
    makes no passages while the bare endpoint is measured. Returns (game tally, bare tally)."""
    json_headers = {"content-type": "application/json"}
    tallies = {"game": Tally(), "bare": Tally()}
    game_players, tallies["game"].warmup = await open_players(
        game_url, args.clients, game_cycle, args.timeout, json_headers
    )
    bare_players, tallies["bare"].warmup = await open_players(
        bare_url, args.clients, bare_job, args.timeout, json_headers if args.bare_like_game else {}
    )
    plan = {
        "game": (game, game_players, game_cycle, iter(shares(args.cycles, args.blocks))),
        "bare": (bare, bare_players, bare_job, iter(shares(2 * args.cycles, args.blocks))),
    }
    try:
        previous = None
        for side in block_order(args.blocks):
            server, players, job, jobs = plan[side]
            if side == "bare" and previous == "game":
                # The game's pool refills first: its refiller, done, stands idle while the bare
                # endpoint is measured, and the next game block starts from a full pool as the
                # first did. (A blocking poll: between blocks nothing is in flight.)
                refilled = PoolRefilled(want)
                wait_until(
                    game,
                    f"{game_url}/healthz",
                    refilled,
                    args.warmup_timeout,
                    f"the pool refilled to {want} passages",
                )
                if refilled.stalled:
                    log(
                        f"game: the pool stopped refilling at {refilled.best} of {want} passages "
                        "(the bank is at POOL_BANK_MAX); going on"
                    )
            before = server.cpu_seconds()
            await run_block(players, next(jobs), job, tallies[side])
            for kind, seconds in server.cpu_seconds().items():
                used = seconds - before.get(kind, 0.0)
                tallies[side].server_cpu[kind] = tallies[side].server_cpu.get(kind, 0.0) + used
            previous = side
    finally:
        for client in game_players + bare_players:
            await client.aclose()
    return tallies["game"], tallies["bare"]


async def game_cycle(client, tally: Tally, steady: bool = True) -> None:
    """One round and its guess (steady: see run_block)."""
    cycle_started = started = time.perf_counter()
    try:
        response = await client.post("/api/rounds", content=ROUND_BODY)
    except Exception as error:  # noqa: BLE001 - a benchmark counts every failure
        tally.record("round", started, None, steady)
        tally.errors[f"round: {type(error).__name__}"] += 1
        return
    tally.record("round", started, response.status_code, steady)
    if "set-cookie" in response.headers:  # a new player: only in the warm-up cycle
        tally.new_cookies += 1
    if response.status_code != 201:
        return
    round_id = orjson.loads(response.content)["round_id"]
    started = time.perf_counter()
    try:
        response = await client.post(
            f"/api/rounds/{round_id}/guess", content=GUESS_BODIES[random.randrange(2)]
        )
    except Exception as error:  # noqa: BLE001
        tally.record("guess", started, None, steady)
        tally.errors[f"guess: {type(error).__name__}"] += 1
        return
    tally.record("guess", started, response.status_code, steady)
    if "set-cookie" in response.headers:
        tally.new_cookies += 1
    if response.status_code == 200:
        tally.acknowledged += 1
        tally.correct += bool(orjson.loads(response.content)["correct"])
        tally.add_latency("cycle", time.perf_counter() - cycle_started, steady)


async def bare_request(
    client, tally: Tally, steady: bool = True, *, path: str = "/bare", like_game: bool = False
) -> None:
    started = time.perf_counter()
    try:
        if like_game:  # what the load generator does for a round: a POST, a body, a cookie
            if "cookie" not in client.headers:  # once, as a player's first answer sets it
                client.headers["cookie"] = f"{PLAYER_COOKIE}=a-signed-player-id"
            response = await client.post(path, content=ROUND_BODY)
        else:
            response = await client.get(path)
    except Exception as error:  # noqa: BLE001
        tally.record("bare", started, None, steady)
        tally.errors[f"bare: {type(error).__name__}"] += 1
        return
    tally.record("bare", started, response.status_code, steady)


# -- figures -------------------------------------------------------------------------------
def cpu_per_request(tally: Tally) -> dict[str, float]:
    """CPU milliseconds per request while the clock ran: the load generator's, the server's and
    (in the game) its pool refiller's."""
    requests = sum(tally.requests(kind) for kind in ("round", "guess", "bare")) or 1
    used = {"load_generator": tally.client_cpu, **tally.server_cpu}
    return {kind: round(1000 * seconds / requests, 3) for kind, seconds in used.items()}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(
    latencies: list[float],
    wall: float,
    statuses: Counter | None = None,
    first_wave: list[float] | None = None,
) -> dict:
    """Throughput over every request; latency over the steady ones (`latencies`), with the p99
    over all (the first waves too) beside it."""
    first_wave = first_wave or []
    values = sorted(latencies)
    every = sorted([*latencies, *first_wave])
    ok = sum(n for status, n in (statuses or {}).items() if 200 <= status < 300)
    return {
        "requests": len(every),
        "ok": ok if statuses is not None else len(every),
        "per_second": round(len(every) / wall, 1) if wall else None,
        "mean_ms": round(1000 * sum(values) / len(values), 2) if values else None,
        "p50_ms": round(1000 * percentile(values, 50), 2),
        "p90_ms": round(1000 * percentile(values, 90), 2),
        "p99_ms": round(1000 * percentile(values, 99), 2),
        "max_ms": round(1000 * values[-1], 2) if values else None,
        "first_wave": len(first_wave),
        "p99_ms_with_first_waves": round(1000 * percentile(every, 99), 2),
    }


def count_rows(db_path: Path) -> dict:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:

        def one(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0] or 0)

        return {
            "guesses_rows": one("SELECT count(*) FROM guesses"),
            "players_guesses_sum": one("SELECT sum(guesses) FROM players"),
            "rounds_guessed": one("SELECT count(*) FROM rounds WHERE guessed_at IS NOT NULL"),
            "rounds": one("SELECT count(*) FROM rounds"),
            "players": one("SELECT count(*) FROM players"),
            "passages": one("SELECT count(*) FROM passages"),
            "passages_unserved": one("SELECT count(*) FROM passages WHERE served = 0"),
        }


# -- the run -------------------------------------------------------------------------------
def resolve_models(spec: str) -> list[Path]:
    paths = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        candidates = [
            Path(item),
            REPO_ROOT / "models" / item,
            REPO_ROOT / "models" / f"{item}.safetensors",
        ]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise BenchmarkError(f"--models: no checkpoint {item!r} (a name in models/ or a path)")
        paths.append(path.resolve())
    if not paths:
        raise BenchmarkError("--models: name at least one checkpoint")
    return paths


def full_pool(base_url: str, per_key: int) -> int:
    """Passages the pool holds when full: POOL_TARGET (or POOL_BANK_MAX, when lower) per
    (model, temperature) key in play."""
    import httpx

    from app.game.rules import TEMPERATURES

    models = httpx.get(f"{base_url}/api/models", timeout=10).json()["models"]
    keys = sum(len(TEMPERATURES.get(m["kind"], (1.0,))) for m in models if m["in_game"])
    if not keys:
        raise BenchmarkError("no model in the game: none of their training texts was found")
    return keys * per_key


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    import httpx

    checkpoints = resolve_models(args.models)
    game_port = args.port or free_port()
    bare_port = args.port + 1 if args.port else free_port()
    results: dict = {
        "command": " ".join(["benchmarks/serve.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "load generator and server share these cores",
        },
        "settings": {
            "workers": args.workers,
            "clients": args.clients,
            "cycles": args.cycles,
            "bare_requests": 2 * args.cycles,
            "models": [p.stem for p in checkpoints],
            "pool_target": args.pool_target,
            "pool_bank_max": args.pool_bank_max,
            "warmup": args.warmup,
            "blocks": args.blocks,
            "log_level": args.log_level,
        },
    }
    with tempfile.TemporaryDirectory(prefix="realornn-serve-bench-") as tmp:
        tmp_path = Path(tmp)
        models_dir, data_dir = tmp_path / "models", tmp_path / "data"
        models_dir.mkdir()
        data_dir.mkdir()
        for path in checkpoints:
            (models_dir / path.name).symlink_to(path)
            for sidecar in path.parent.glob(f"{path.stem}.*.json"):  # e.g. NAME.curve.json
                (models_dir / sidecar.name).symlink_to(sidecar)
        db_path = data_dir / "bench.db"
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{db_path}",
            "MODELS_DIR": str(models_dir),
            "POOL_TARGET": str(args.pool_target),
            "PYTHONUNBUFFERED": "1",
        }
        if args.pool_bank_max is not None:
            env["POOL_BANK_MAX"] = str(args.pool_bank_max)
        env.pop("SECRET_KEY", None)  # generated into the temporary DATA_DIR

        # the two servers: the game (with its pool warm) and the bare endpoint
        game_url = f"http://127.0.0.1:{game_port}"
        bare_url = f"http://127.0.0.1:{bare_port}"
        bare_path = "/bare-sync" if args.bare_sync else "/bare"
        if args.bare_like_game and args.bare_sync:
            raise BenchmarkError("--bare-like-game and --bare-sync do not go together")
        game = Server(
            "game",
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(game_port),
                "--workers",
                str(args.workers),
                "--log-level",
                args.log_level,
            ],
            env,
            tmp_path / "game.log",
        )
        bare = Server(
            "bare",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--bare-server",
                "--port",
                str(bare_port),
                "--workers",
                str(args.workers),
                "--log-level",
                args.log_level,
            ],
            env,
            tmp_path / "bare.log",
        )
        try:
            started = time.monotonic()
            log(f"game: starting on {game_url} with {', '.join(p.stem for p in checkpoints)}")
            wait_until(game, f"{game_url}/healthz", lambda b: True, args.start_timeout, "/healthz")
            up = time.monotonic() - started
            per_key = min(args.pool_target, args.pool_bank_max or args.pool_target)
            full = full_pool(game_url, per_key)
            want = max(1, round(args.warmup * full))
            log(f"game: up in {up:.1f} s; waiting for {want} of {full} pooled passages")
            health = wait_until(
                game,
                f"{game_url}/healthz",
                lambda b: b.get("pool_ready", 0) >= want,
                args.warmup_timeout,
                f"a pool of {want} passages",
            )
            warm = time.monotonic() - started - up
            wait_until(bare, bare_url + bare_path, lambda b: True, args.start_timeout, bare_path)
            before = count_rows(db_path)
            results["machine"]["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
            log(
                f"game: pool ready ({health['pool_ready']}) after {warm:.1f} s more; bare: up on "
                f"{bare_url}; {args.clients} players x {args.cycles} cycles against {args.clients}"
                f" clients x {2 * args.cycles} bare requests, in {args.blocks} blocks each"
            )
            bare_job = functools.partial(
                bare_request, path=bare_path, like_game=args.bare_like_game
            )
            tally, bare_tally = asyncio.run(
                measure(args, game, game_url, want, bare, bare_url, bare_job)
            )
            health_after = httpx.get(f"{game_url}/healthz", timeout=30).json()
            stats = httpx.get(f"{game_url}/api/stats", timeout=60).json()
            export = httpx.get(f"{game_url}/api/export/guesses.json", timeout=120).json()
        finally:
            code = game.stop()
            bare_code = bare.stop()
        if code not in (0, -signal.SIGINT):
            log(f"game: server exited with {code}:\n{game.tail()}")
        after = count_rows(db_path)  # the server has stopped: what is on disk

        every = tally.latencies["round"] + tally.latencies["guess"]
        every_first = tally.first_wave["round"] + tally.first_wave["guess"]
        all_statuses = tally.statuses["round"] + tally.statuses["guess"]
        # the warm-up cycles' guesses are stored too: they count in the books
        acknowledged = tally.acknowledged + tally.warmup.acknowledged
        correct = tally.correct + tally.warmup.correct
        stored = {
            "warmup_cycles": len(tally.warmup.latencies["guess"]),
            "acknowledged": acknowledged,
            "api_stats_overall_guesses": stats["overall"]["guesses"],
            "export_rows": len(export["guesses"]),
            "sqlite_guesses_rows": after["guesses_rows"],
            "sqlite_players_guesses_sum": after["players_guesses_sum"],
            "sqlite_rounds_guessed": after["rounds_guessed"],
            "acknowledged_correct": correct,
            "api_stats_overall_correct": stats["overall"]["correct"],
        }
        counts = [v for k, v in stored.items() if not k.endswith(("correct", "cycles"))]
        stored["not_one_lost"] = len(set(counts)) == 1 and correct == stats["overall"]["correct"]
        if tally.new_cookies:
            tally.errors["answers that set a new player cookie after the warm-up"] += (
                tally.new_cookies
            )
        wall = tally.wall
        results["game"] = {
            "startup_seconds": round(up, 1),
            "warmup_seconds": round(warm, 1),
            "pool_ready_before": health["pool_ready"],
            "pool_ready_after": health_after["pool_ready"],
            "full_pool": full,
            "passages_before": before["passages"],
            "passages_after": after["passages"],
            "rounds_stored": after["rounds"],
            "players_stored": after["players"],
            "wall_seconds": round(wall, 2),
            **{
                name: summary(
                    tally.latencies[kind], wall, tally.statuses[kind], tally.first_wave[kind]
                )
                for name, kind in (("rounds", "round"), ("guesses", "guess"))
            },
            "all": summary(every, wall, all_statuses, every_first),
            "cycles": summary(tally.latencies["cycle"], wall, None, tally.first_wave["cycle"]),
            "statuses": {
                kind: {str(k): v for k, v in sorted(tally.statuses[kind].items())}
                for kind in ("round", "guess")
            },
            "errors": dict(tally.errors),
            "server_exit": code,
            "cpu_ms_per_request": cpu_per_request(tally),
        }
        results["stored"] = stored
        bare_wall = bare_tally.wall
        results["bare"] = {
            "endpoint": f"{'POST' if args.bare_like_game else 'GET'} {bare_path}",
            "wall_seconds": round(bare_wall, 2),
            "all": summary(
                bare_tally.latencies["bare"],
                bare_wall,
                bare_tally.statuses["bare"],
                bare_tally.first_wave["bare"],
            ),
            "statuses": {str(k): v for k, v in sorted(bare_tally.statuses["bare"].items())},
            "errors": dict(bare_tally.errors),
            "server_exit": bare_code,
            "cpu_ms_per_request": cpu_per_request(bare_tally),
        }

    if args.trace:
        write_trace(args.trace, {"game": tally, "bare": bare_tally})
    game_all, bare_all = results["game"]["all"], results["bare"]["all"]
    throughput = game_all["per_second"] / bare_all["per_second"]
    p99 = game_all["p99_ms"] / bare_all["p99_ms"]
    results["ratios"] = {
        "throughput": round(throughput, 3),
        "throughput_goal": THROUGHPUT_GOAL,
        "throughput_met": throughput >= THROUGHPUT_GOAL,
        "p99": round(p99, 3),
        "p99_goal": P99_GOAL,
        "p99_met": p99 <= P99_GOAL,
        "p99_with_first_waves": round(
            game_all["p99_ms_with_first_waves"] / bare_all["p99_ms_with_first_waves"], 3
        ),
    }
    return results


def write_trace(path: Path, tallies: dict[str, Tally]) -> None:
    """Every request as a CSV row: server, kind, when it started (ms after that server's first
    request), its latency (ms) and whether it was in a block's first wave (1: left out of the
    percentiles). To see whether the slow requests come together (a stall) or spread out
    (queueing)."""
    lines = ["server,kind,start_ms,latency_ms,first_wave"]
    for server, tally in tallies.items():
        first = min((row[1] for row in tally.trace), default=0.0)
        lines += [
            f"{server},{kind},{1000 * (started - first):.3f},{1000 * latency:.3f},{int(wave)}"
            for kind, started, latency, wave in sorted(tally.trace, key=lambda row: row[1])
        ]
    path.write_text("\n".join(lines) + "\n")


def print_table(results: dict) -> None:
    s, game, bare = results["settings"], results["game"], results["bare"]
    print(
        f"Real or RNN? serving benchmark: {s['clients']} clients, {s['cycles']} cycles "
        f"(round + guess), {s['workers']} worker(s), models {', '.join(s['models'])}, "
        f"POOL_TARGET {s['pool_target']}"
    )
    m = results["machine"]
    print(
        f"machine: {m['cpus']} CPUs shared by the load generator and the server (and the game's "
        f"pool refiller at nice 19); Python {m['python']}; 1-minute load average before the "
        f"measurement {m['load_average_before'][0]:.2f} (other work on the machine skews the "
        f"figures); {s['blocks']} blocks per server, interleaved"
    )
    print(
        f"game: up in {game['startup_seconds']} s, pool warm ({game['pool_ready_before']}/"
        f"{game['full_pool']}) {game['warmup_seconds']} s later; pool ready after the run: "
        f"{game['pool_ready_after']}; passages in the bank {game['passages_before']} -> "
        f"{game['passages_after']}"
    )
    print()
    header = f"{'':<18}{'requests':>9}{'ok':>8}{'req/s':>9}{'mean ms':>9}{'p50 ms':>9}"
    header += f"{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}  {'p99 with first waves':>20}"
    print(header)
    rows = [
        ("game: rounds", game["rounds"]),
        ("game: guesses", game["guesses"]),
        ("game: all", game["all"]),
        ("game: cycles", game["cycles"]),
        (f"bare {bare['endpoint']}", bare["all"]),
    ]
    for name, row in rows:
        print(
            f"{name:<18}{row['requests']:>9}{row['ok']:>8}{row['per_second']:>9}"
            f"{row['mean_ms']:>9}{row['p50_ms']:>9}{row['p90_ms']:>9}{row['p99_ms']:>9}"
            f"{row['max_ms']:>9}  {row['p99_ms_with_first_waves']:>20}"
        )
    print("(cycles/s is cycles completed per second; a cycle's latency is its round's + guess's)")
    print(
        "(throughput counts every request; latencies leave out each block's first wave, one job "
        f"per client sent at once: {game['cycles']['first_wave']} cycles of the game, "
        f"{bare['all']['first_wave']} bare requests; the last column keeps them in)"
    )
    for name, cpu in (("game", game["cpu_ms_per_request"]), ("bare", bare["cpu_ms_per_request"])):
        print(
            f"CPU ms per request, {name}: "
            + ", ".join(f"{kind.replace('_', ' ')} {ms:.2f}" for kind, ms in cpu.items())
            + f" (at {(game if name == 'game' else bare)['all']['per_second']:.0f} req/s, 1 core"
            " is 1000 / that)"
        )
    print()
    r = results["ratios"]
    print(
        f"throughput game/bare: {r['throughput']:.2f} (goal >= {r['throughput_goal']}): "
        f"{'met' if r['throughput_met'] else 'MISSED'}"
    )
    print(
        f"p99 game/bare:        {r['p99']:.2f} (goal <= {r['p99_goal']}): "
        f"{'met' if r['p99_met'] else 'MISSED'} (with the first waves: "
        f"{r['p99_with_first_waves']:.2f})"
    )
    st = results["stored"]
    print(
        f"guesses acknowledged {st['acknowledged']} (with the {st['warmup_cycles']} warm-up "
        f"cycles'); /api/stats {st['api_stats_overall_guesses']}; "
        f"export {st['export_rows']}; SQLite rows {st['sqlite_guesses_rows']} "
        f"(players' counters {st['sqlite_players_guesses_sum']}, rounds guessed "
        f"{st['sqlite_rounds_guessed']}); correct {st['acknowledged_correct']} vs "
        f"{st['api_stats_overall_correct']}: "
        f"{'not one lost' if st['not_one_lost'] else 'MISMATCH'}"
    )
    problems = {
        **{
            f"game {kind} {status}": n
            for kind, by_status in game["statuses"].items()
            for status, n in by_status.items()
            if not status.startswith("2")
        },
        **{f"game {kind}": n for kind, n in game["errors"].items()},
        **{f"bare {s}": n for s, n in bare["statuses"].items() if not s.startswith("2")},
        **{f"bare {kind}": n for kind, n in bare["errors"].items()},
    }
    print(f"non-2xx answers and errors: {problems or 'none'}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Load-test the game server (round + guess cycles) against a bare FastAPI "
        "endpoint, and check that every acknowledged guess is stored.",
    )
    parser.add_argument("--workers", type=int, default=1, help="server workers (default: 1)")
    parser.add_argument(
        "--clients", type=int, default=32, help="simultaneous players (default: 32)"
    )
    parser.add_argument(
        "--cycles", type=int, default=2000, help="round + guess cycles in all (default: 2000)"
    )
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help="checkpoints to serve, comma-separated names in models/ or paths "
        f"(default: {','.join(DEFAULT_MODELS)})",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="game server port; the bare server takes the next one (default: free ports)",
    )
    parser.add_argument(
        "--pool-target",
        type=int,
        default=32,
        help="POOL_TARGET: unserved passages per (model, temperature) (default: 32)",
    )
    parser.add_argument(
        "--pool-bank-max",
        type=int,
        default=None,
        help="POOL_BANK_MAX: passages kept per key; set it to --pool-target to stop the refiller "
        "once the pool is warm (default: the server's, 400)",
    )
    parser.add_argument(
        "--bare-sync",
        action="store_true",
        help="measure the ceiling on GET /bare-sync, a plain def run in the threadpool like the "
        "game's endpoints (default: GET /bare, an async def)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat the whole run (game, then bare) this many times and summarise (default: 1)",
    )
    parser.add_argument(
        "--bare-like-game",
        action="store_true",
        help="make each bare request look like a round's to the load generator: POST /bare with "
        "the round's JSON body and a player cookie, answered {} (default: GET /bare)",
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=2,
        help="load each server in this many blocks, interleaved game, bare, bare, game, ... "
        "(1: the game, then the bare endpoint) (default: 2)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="measure once the pool holds this fraction of its full size (default: 1.0)",
    )
    parser.add_argument(
        "--warmup-timeout", type=float, default=300, help="seconds to wait for it (default: 300)"
    )
    parser.add_argument(
        "--start-timeout",
        type=float,
        default=120,
        help="seconds to wait for /healthz to answer (default: 120)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="per-request timeout in seconds (default: 60)"
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="both servers' log level (default: warning)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", type=Path, help="also write the JSON results to this file")
    parser.add_argument(
        "--trace",
        type=Path,
        help="write every request (server, kind, start, latency) to this CSV file",
    )
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.bare_server:
        run_bare_server(args.port, args.workers, args.log_level)
        return 0
    for name in ("workers", "clients", "cycles", "pool_target", "pool_bank_max", "runs", "blocks"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            print(f"serve.py: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if not 0 < args.warmup <= 1:
        print("serve.py: --warmup must be in (0, 1]", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO_ROOT))  # `app` for the pool's temperatures
    every_run = []
    for number in range(1, args.runs + 1):
        this_run = args
        if args.runs > 1:
            log(f"run {number} of {args.runs}")
            if args.trace:  # run.csv -> run.1.csv, run.2.csv, ...
                this_run = argparse.Namespace(
                    **{**vars(args), "trace": args.trace.with_suffix(f".{number}.csv")}
                )
        try:
            every_run.append(run(this_run))
        except BenchmarkError as error:
            print(f"serve.py: {error}", file=sys.stderr)
            return 1
        if not args.json:
            print_table(every_run[-1])
            print()
    results = every_run[0] if args.runs == 1 else {"runs": every_run, **summarise(every_run)}
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.json:
        print(json.dumps(results, indent=2))
    elif args.runs > 1:
        print_summary(results)
    return 0 if all(r["stored"]["not_one_lost"] for r in every_run) else 1


def summarise(every_run: list[dict]) -> dict:
    """Over several runs: each run's ratios, their medians, and in how many each goal was met.
    One run's p99 rests on its 40 slowest requests, so the host's hiccups move it: the count
    of runs that meet a goal says more than any one run."""
    ratios = [r["ratios"] for r in every_run]
    return {
        "ratios_per_run": [(r["throughput"], r["p99"]) for r in ratios],
        "median_throughput_ratio": round(statistics.median(r["throughput"] for r in ratios), 3),
        "median_p99_ratio": round(statistics.median(r["p99"] for r in ratios), 3),
        "throughput_met_in": sum(r["throughput_met"] for r in ratios),
        "p99_met_in": sum(r["p99_met"] for r in ratios),
        "both_met_in": sum(r["throughput_met"] and r["p99_met"] for r in ratios),
        "p99_ratios_with_first_waves": [r["p99_with_first_waves"] for r in ratios],
        "p99_met_with_first_waves_in": sum(r["p99_with_first_waves"] <= P99_GOAL for r in ratios),
        "not_one_lost_in_any": all(r["stored"]["not_one_lost"] for r in every_run),
    }


def print_summary(results: dict) -> None:
    n = len(results["runs"])
    print(f"over {n} runs (throughput ratio, p99 ratio): {results['ratios_per_run']}")
    print(
        f"throughput game/bare: median {results['median_throughput_ratio']:.2f}, goal >= "
        f"{THROUGHPUT_GOAL} met in {results['throughput_met_in']} of {n}"
    )
    print(
        f"p99 game/bare:        median {results['median_p99_ratio']:.2f}, goal <= {P99_GOAL} "
        f"met in {results['p99_met_in']} of {n}; both in {results['both_met_in']} of {n}"
    )
    print(
        f"p99 game/bare with the first waves: {results['p99_ratios_with_first_waves']}, goal met "
        f"in {results['p99_met_with_first_waves_in']} of {n}"
    )
    lost = "not one guess lost in any run" if results["not_one_lost_in_any"] else "MISMATCH"
    print(lost)


if __name__ == "__main__":
    sys.exit(main())
