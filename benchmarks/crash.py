"""Crash safety: is every acknowledged guess and vote still there after the server is killed?

Run from the repository root:

    .venv/bin/python benchmarks/crash.py                          # SQLite and PostgreSQL, 3 each
    .venv/bin/python benchmarks/crash.py --database sqlite --rounds 1 --load-seconds 3
    .venv/bin/python benchmarks/crash.py --out benchmarks/results/crash.json

For each database (--database sqlite|postgresql|both):
 1. A real `realornn serve` in its own session (so its process group holds uvicorn, the pool's
    refiller and anything else it starts), with a fresh DATA_DIR, MODELS_DIR a folder of
    symlinks to shipped checkpoints (--models, default the two n-grams, and the machine judge),
    POOL_TARGET small so that it is warm quickly, OMP_NUM_THREADS=1, RATE_LIMITS=false (the
    load is far faster than people, from one address). On SQLite the database is
    the default file under DATA_DIR; on PostgreSQL a throwaway cluster of Debian's binaries
    (tests/postgres.py's PostgresServer, started here with PostgreSQL's default durability:
    fsync, synchronous_commit and full_page_writes on; the tests turn them off) and
    DATABASE_URL=postgresql+psycopg://... The benchmark waits for GET /readyz (200: every
    (model, temperature) in play has a passage).
 2. --rounds times, on the same database (cumulative): the load, then the crash. --clients
    (16) players, each an httpx.AsyncClient with its own cookie jar (so its own player), play
    rounds and guesses as fast as they are answered (pair and single rounds, a random choice);
    beside them a classroom: one room, a host that starts a round, waits for the votes,
    reveals and starts the next, and --voters (6) students, each with a client of its own, who
    joined the room and vote in every round (a new room when one has used its 30 rounds).
    Every guess and vote that was sent is written down with its ids: a guess by its round id
    and choice, a vote by (room, round, nickname) and choice; it is "acknowledged" when its
    2xx answer came back whole. After --load-seconds of load the server's whole process group
    is killed with SIGKILL (os.killpg): no lifespan shutdown, no flush, the requests in flight
    cut off. The benchmark checks that every process of the group is gone.
 3. The restart: the same command on the same DATA_DIR and database; the time from the start
    of the process to GET /readyz answering 200 (/healthz where there is no /readyz).
 4. The books, after every restart and for every run so far: the guesses table read directly
    (SQLAlchemy on the same URL, app/db/models.py; a vote is a guess row with the room's code,
    its player found through room_members by the nickname), and the API's own export (GET
    /api/export/guesses.json: rows per round id). Lost = acknowledged but not stored (or stored
    with another choice); that must be 0. Sent but unacknowledged and stored anyway (the
    answer was cut off by the kill after the commit) is fine, and counted. A stored guess or
    vote that was never sent, or stored twice, would be a bug too, and is counted.

The exit status is 1 if anything acknowledged was lost (or anything else in the books is off),
0 otherwise. The server and the load generator share this machine's cores.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from serve import Server, free_port, resolve_models  # benchmarks/serve.py: the same server handling

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # app (the tables)
POSTGRES_HELPER = REPO_ROOT / "tests" / "postgres.py"

DEFAULT_MODELS = ("char-7gram-kn", "word-5gram-kn")
ROOM_ROUNDS = 30  # the most a room takes (app/web/routers/rooms.py RoomRequest)
READY_TIMEOUT = 300.0  # seconds for a (re)started server to answer /readyz 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchmarkError(RuntimeError):
    pass


# -- the databases -----------------------------------------------------------------------------
def durable_postgres(folder: Path):
    """tests/postgres.py's PostgresServer with PostgreSQL's default durability (`durable`: fsync,
    synchronous_commit and full_page_writes on; the tests turn them off)."""
    import importlib.util

    # by its path: tests/ is no package, and a `tests` installed elsewhere would shadow it
    spec = importlib.util.spec_from_file_location("realornn_tests_postgres", POSTGRES_HELPER)
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    reason = helper.missing()
    if reason is not None:
        raise BenchmarkError(f"PostgreSQL: {reason}")
    return helper.PostgresServer(folder, durable=True)


def postgres_settings(url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(text(f"SHOW {name}")).scalar()
                for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes")
            }
    finally:
        engine.dispose()


# -- the server --------------------------------------------------------------------------------
def models_folder(folder: Path, checkpoints: list[Path]) -> Path:
    """A MODELS_DIR of symlinks to the chosen checkpoints (with their sidecars) and the judge."""
    folder.mkdir()
    for path in checkpoints:
        (folder / path.name).symlink_to(path)
        for sidecar in path.parent.glob(f"{path.stem}.*.json"):
            (folder / sidecar.name).symlink_to(sidecar)
    judge = REPO_ROOT / "models" / "judge"
    if judge.is_dir():
        (folder / "judge").symlink_to(judge)
    return folder


def serve_command(port: int) -> list[str]:
    realornn = Path(sys.executable).parent / "realornn"
    head = [str(realornn)] if realornn.exists() else [sys.executable, "-m", "app.cli"]
    return [*head, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


def start_server(name: str, port: int, env: dict, log_path: Path) -> tuple[Server, float]:
    """The server process and the perf_counter() at its start."""
    started = time.perf_counter()
    return Server(name, serve_command(port), env, log_path), started


def wait_ready(server: Server, base: str, started: float, timeout: float = READY_TIMEOUT) -> dict:
    """Poll GET /readyz until 200 (GET /healthz, where /readyz is missing: a 404); the seconds
    from `started` to the first answer of any kind ("up") and to readiness."""
    deadline = started + timeout
    up = None
    path = "/readyz"
    last = ""
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.perf_counter() < deadline:
            if not server.alive():
                raise BenchmarkError(
                    f"the server exited ({server.process.returncode}) before it was ready:\n"
                    f"{server.tail()}"
                )
            try:
                response = client.get(path)
            except httpx.HTTPError as error:
                last = type(error).__name__
            else:
                if up is None:
                    up = time.perf_counter() - started
                if response.status_code == 404 and path == "/readyz":
                    path = "/healthz"
                    continue
                if response.status_code == 200:
                    return {
                        "ready_s": round(time.perf_counter() - started, 3),
                        "up_s": round(up, 3),
                        "ready_endpoint": path,
                    }
                last = f"{response.status_code} {response.text[:200]}"
            time.sleep(0.05)
    raise BenchmarkError(f"not ready after {timeout:.0f} s (last: {last}):\n{server.tail()}")


def alive_pids(pids: list[int]) -> list[int]:
    """Those of `pids` that still run (a zombie, dead but not yet reaped, does not)."""
    alive = []
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if text[text.rindex(")") + 2 :].split()[0] != "Z":
            alive.append(pid)
    return alive


def crash(server: Server) -> dict:
    """SIGKILL to the server's whole process group; what was in it, and what survived."""
    pids = [pid for pid, _ in server.session_processes()]
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    server.log.close()
    deadline = time.monotonic() + 5
    survivors = alive_pids(pids)
    while survivors and time.monotonic() < deadline:
        time.sleep(0.05)
        survivors = alive_pids(pids)
    return {"killed_pids": len(pids), "survivors": survivors}


# -- the load ----------------------------------------------------------------------------------
@dataclass
class Books:
    """What the clients sent and what was acknowledged, over every run on one database."""

    guesses_acked: dict[str, str] = field(default_factory=dict)  # round id -> choice
    guesses_unacked: dict[str, str] = field(default_factory=dict)  # sent, no 2xx came back
    votes_acked: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (room, round,
    votes_unacked: dict[tuple[str, str, str], str] = field(default_factory=dict)  # nickname)


@dataclass
class RunTally:
    guesses_acked: int = 0
    votes_acked: int = 0
    guesses_unacked: int = 0
    votes_unacked: int = 0
    rounds_started: int = 0
    room_rounds: int = 0
    rooms: int = 0
    statuses: Counter = field(default_factory=Counter)  # "guess 200", "vote 201", ...
    errors: Counter = field(default_factory=Counter)  # exceptions by kind, before the kill
    errors_after_kill: Counter = field(default_factory=Counter)
    new_player_cookies: int = 0  # a player's cookie set again after its first answer
    in_flight_at_kill: int = 0


class Load:
    def __init__(self, base: str, args, books: Books, tally: RunTally, seed: int):
        self.base, self.args, self.books, self.tally = base, args, books, tally
        self.rng = random.Random(seed)
        self.killed = False
        self.in_flight = 0

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=self.args.timeout)

    async def post(self, client: httpx.AsyncClient, kind: str, url: str, **kwargs):
        """The response, or None when the request failed (after the kill: expected)."""
        self.in_flight += 1
        try:
            response = await client.post(url, **kwargs)
        except httpx.HTTPError as error:
            errors = self.tally.errors_after_kill if self.killed else self.tally.errors
            errors[f"{kind}: {type(error).__name__}"] += 1
            return None
        finally:
            self.in_flight -= 1
        self.tally.statuses[f"{kind} {response.status_code}"] += 1
        return response

    async def player(self) -> None:
        """Rounds and guesses, one after the other, until the server is gone."""
        async with self.client() as client:
            first = True
            while not self.killed:
                mode = "pair" if self.rng.random() < 0.75 else "single"
                response = await self.post(client, "round", "/api/rounds", json={"mode": mode})
                if response is None:
                    return
                if "set-cookie" in response.headers and not first:
                    self.tally.new_player_cookies += 1
                first = False
                if response.status_code != 201:
                    await asyncio.sleep(0.05)
                    continue
                self.tally.rounds_started += 1
                round_id = response.json()["round_id"]
                choice = self.rng.choice((0, 1) if mode == "pair" else ("real", "generated"))
                self.books.guesses_unacked[round_id] = str(choice)
                response = await self.post(
                    client, "guess", f"/api/rounds/{round_id}/guess", json={"choice": choice}
                )
                if response is None:
                    return
                if "set-cookie" in response.headers:
                    self.tally.new_player_cookies += 1
                if 200 <= response.status_code < 300:
                    self.books.guesses_acked[round_id] = self.books.guesses_unacked.pop(round_id)
                    self.tally.guesses_acked += 1

    async def open_room(self, host: httpx.AsyncClient, voters: list) -> tuple[str, dict] | None:
        """A new room and every voter in it: (code, host's headers), or None (server gone)."""
        response = await self.post(host, "room", "/api/rooms", json={"rounds": ROOM_ROUNDS})
        if response is None or response.status_code != 201:
            return None
        created = response.json()
        code = created["code"]
        self.tally.rooms += 1
        for i, voter in enumerate(voters):
            response = await self.post(
                voter["client"], "join", f"/api/rooms/{code}/players",
                json={"nickname": f"voter{i}"},
            )  # fmt: skip
            if response is None or response.status_code != 201:
                return None
            voter["token"] = response.json()["player_token"]
        return code, {"Authorization": f"Bearer {created['host_token']}"}

    async def vote(self, voter: dict, code: str, round_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(0, 0.02))  # not all at the same instant
        choice = self.rng.randrange(2)
        key = (code, round_id, voter["nickname"])
        self.books.votes_unacked[key] = str(choice)
        response = await self.post(
            voter["client"], "vote", f"/api/rooms/{code}/rounds/{round_id}/votes",
            json={"choice": choice}, headers={"Authorization": f"Bearer {voter['token']}"},
        )  # fmt: skip
        if response is not None and 200 <= response.status_code < 300:
            self.books.votes_acked[key] = self.books.votes_unacked.pop(key)
            self.tally.votes_acked += 1

    async def classroom(self, ready: asyncio.Event) -> None:
        """The host's loop: start a round, every voter votes, reveal; a new room when full."""
        voters = [{"client": self.client(), "nickname": f"voter{i}", "token": None}
                  for i in range(self.args.voters)]  # fmt: skip
        try:
            async with self.client() as host:
                room = await self.open_room(host, voters)
                ready.set()
                played = 0
                while room is not None and not self.killed:
                    code, headers = room
                    if played >= ROOM_ROUNDS:
                        room, played = await self.open_room(host, voters), 0
                        continue
                    response = await self.post(
                        host, "room round", f"/api/rooms/{code}/rounds", headers=headers
                    )
                    if response is None:
                        return
                    if response.status_code != 201:
                        await asyncio.sleep(0.05)
                        played = ROOM_ROUNDS  # (a refusal: all rounds played) a new room
                        continue
                    played += 1
                    self.tally.room_rounds += 1
                    round_id = response.json()["round_id"]
                    await asyncio.gather(*(self.vote(v, code, round_id) for v in voters))
                    if self.killed:
                        return
                    response = await self.post(
                        host, "reveal", f"/api/rooms/{code}/rounds/{round_id}/reveal",
                        headers=headers,
                    )  # fmt: skip
                    if response is None:
                        return
        finally:
            ready.set()
            for voter in voters:
                await voter["client"].aclose()

    async def run(self, server: Server) -> dict:
        """The load for --load-seconds, then SIGKILL to the server's process group."""
        ready = asyncio.Event()
        room_task = asyncio.create_task(self.classroom(ready))
        await ready.wait()  # the room and its voters: set up before the clock starts
        players = [asyncio.create_task(self.player()) for _ in range(self.args.clients)]
        started = time.perf_counter()
        await asyncio.sleep(self.args.load_seconds)
        self.tally.in_flight_at_kill = self.in_flight
        self.killed = True
        killed = crash(server)
        killed["load_s"] = round(time.perf_counter() - started, 3)
        await asyncio.wait_for(asyncio.gather(room_task, *players), timeout=60)
        return killed


# -- the books ---------------------------------------------------------------------------------
def stored_rows(url: str) -> tuple[dict[str, list[str]], dict[tuple[str, str, str], list[str]]]:
    """The guesses table, directly: solo guesses {round id: [choices]} and votes
    {(room, round, nickname): [choices]} (lists: a duplicate would show)."""
    from sqlalchemy import and_, create_engine, select

    from app.db.models import Guess, RoomMember

    engine = create_engine(url)
    solo: dict[str, list[str]] = {}
    votes: dict[tuple[str, str, str], list[str]] = {}
    try:
        with engine.connect() as connection:
            for round_id, choice in connection.execute(
                select(Guess.round_id, Guess.choice).where(Guess.room_code.is_(None))
            ):
                solo.setdefault(round_id, []).append(choice)
            query = select(Guess.room_code, Guess.round_id, RoomMember.nickname, Guess.choice)
            query = query.outerjoin(
                RoomMember,
                and_(
                    RoomMember.player_id == Guess.player_id,
                    RoomMember.room_code == Guess.room_code,
                ),
            ).where(Guess.room_code.is_not(None))
            for code, round_id, nickname, choice in connection.execute(query):
                votes.setdefault((code, round_id, nickname or "?"), []).append(choice)
    finally:
        engine.dispose()
    return solo, votes


def exported_rows(base: str) -> Counter:
    """GET /api/export/guesses.json: rows per round id (solo and room rounds alike)."""
    response = httpx.get(f"{base}/api/export/guesses.json", timeout=120)
    response.raise_for_status()
    return Counter(row["round_id"] for row in response.json()["guesses"])


def check_books(books: Books, url: str, base: str) -> dict:
    solo, votes = stored_rows(url)
    exported = exported_rows(base)

    def tally(acked: dict, unacked: dict, stored: dict) -> dict:
        missing = [key for key in acked if key not in stored]
        other_choice = [k for k, choice in acked.items() if k in stored and choice not in stored[k]]
        return {
            "acknowledged": len(acked),
            "lost": len(missing) + len(other_choice),
            "missing": len(missing),
            "stored_with_another_choice": len(other_choice),
            "unacknowledged": len(unacked),
            "unacknowledged_but_stored": sum(key in stored for key in unacked),
            "stored_twice": sum(len(choices) > 1 for choices in stored.values()),
            "stored_never_sent": sum(k not in acked and k not in unacked for k in stored),
            "examples_lost": [list(k) if isinstance(k, tuple) else k for k in missing[:5]],
        }

    guesses = tally(books.guesses_acked, books.guesses_unacked, solo)
    voted = tally(books.votes_acked, books.votes_unacked, votes)
    # the API's view: every acknowledged solo guess's round in the export, and at least as many
    # export rows for each room round as votes were acknowledged in it
    acked_per_room_round = Counter(round_id for _, round_id, _ in books.votes_acked)
    api = {
        "export_rows": sum(exported.values()),
        "guesses_lost": sum(exported[round_id] == 0 for round_id in books.guesses_acked),
        "votes_lost": sum(
            max(0, n - exported[round_id]) for round_id, n in acked_per_room_round.items()
        ),
    }
    return {"guesses": guesses, "votes": voted, "api": api}


def books_ok(check: dict) -> bool:
    return (
        all(
            check[kind][key] == 0
            for kind in ("guesses", "votes")
            for key in ("lost", "stored_twice", "stored_never_sent")
        )
        and check["api"]["guesses_lost"] == 0
        and check["api"]["votes_lost"] == 0
    )


# -- one database ------------------------------------------------------------------------------
def run_database(database: str, args, checkpoints: list[Path], folder: Path) -> dict:
    folder.mkdir()
    data_dir = folder / "data"
    postgres = None
    result: dict = {"database": database, "runs": []}
    if database == "sqlite":
        url = f"sqlite:///{data_dir / 'realornn.db'}"  # the default file name, under DATA_DIR
    else:
        pg_folder = Path(tempfile.mkdtemp(prefix="realornn-crash-pg-"))  # postgres must own it
        postgres = durable_postgres(pg_folder).start()
        url = postgres.create_database("crash")
        result["postgresql"] = postgres_settings(url)
    env = os.environ | {
        "DATA_DIR": str(data_dir),
        "MODELS_DIR": str(models_folder(folder / "models", checkpoints)),
        "POOL_TARGET": str(args.pool_target),
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        # 16 players and a class from one address, far faster than people: the per-player and
        # per-address rate limits (app/web/limits.py) would answer most of it 429, unstored
        "RATE_LIMITS": "false",
    }
    env.pop("SECRET_KEY", None)  # generated into DATA_DIR on the first start, kept after
    for name in ("DATABASE_URL", "SQLITE_SYNCHRONOUS", "POOL_REFILL", "POOL_BANK_MAX"):
        env.pop(name, None)
    if database == "postgresql":
        env["DATABASE_URL"] = url
    result["settings"] = {
        "database_url": url if database == "postgresql" else "(default) sqlite:///DATA_DIR/...",
        "sqlite_synchronous": "NORMAL (default)" if database == "sqlite" else None,
        "pool_target": args.pool_target,
        "pool_refill": "process (default)",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    books = Books()
    server = None
    try:
        log(f"{database}: starting the server on {base}")
        server, started = start_server(database, port, env, folder / "server-0.log")
        result["first_start"] = wait_ready(server, base, started)
        log(f"{database}: ready in {result['first_start']['ready_s']} s")
        for run in range(1, args.rounds + 1):
            tally = RunTally()
            unacked_before = len(books.guesses_unacked), len(books.votes_unacked)
            stored_before = sum(
                prev["books_so_far"][kind]["unacknowledged_but_stored"]
                for prev in result["runs"][-1:]
                for kind in ("guesses", "votes")
            )
            load = Load(base, args, books, tally, seed=args.seed * 1000 + run)
            killed = asyncio.run(load.run(server))
            log(
                f"{database} run {run}: killed after {killed['load_s']} s of load "
                f"({killed['killed_pids']} processes, {tally.in_flight_at_kill} requests in "
                f"flight); {tally.guesses_acked} guesses and {tally.votes_acked} votes acknowledged"
            )
            server, started = start_server(database, port, env, folder / f"server-{run}.log")
            restart = wait_ready(server, base, started)
            check = check_books(books, url, base)
            log(
                f"{database} run {run}: ready again in {restart['ready_s']} s; lost "
                f"{check['guesses']['lost']} guesses, {check['votes']['lost']} votes (of "
                f"{check['guesses']['acknowledged']} and {check['votes']['acknowledged']} so far)"
            )
            result["runs"].append(
                {
                    "run": run,
                    "acknowledged_guesses": tally.guesses_acked,
                    "acknowledged_votes": tally.votes_acked,
                    "unacknowledged_guesses": len(books.guesses_unacked) - unacked_before[0],
                    "unacknowledged_votes": len(books.votes_unacked) - unacked_before[1],
                    "unacknowledged_but_stored": check["guesses"]["unacknowledged_but_stored"]
                    + check["votes"]["unacknowledged_but_stored"]
                    - stored_before,
                    "lost": check["guesses"]["lost"] + check["votes"]["lost"],
                    "ok": books_ok(check),
                    "restart": restart,
                    "crash": killed,
                    "in_flight_at_kill": tally.in_flight_at_kill,
                    "rounds_started": tally.rounds_started,
                    "room_rounds": tally.room_rounds,
                    "rooms": tally.rooms,
                    "statuses": dict(sorted(tally.statuses.items())),
                    "errors_before_kill": dict(tally.errors),
                    "errors_after_kill": dict(tally.errors_after_kill),
                    "new_player_cookies": tally.new_player_cookies,
                    "books_so_far": check,
                }
            )
    finally:
        if server is not None:
            server.stop()
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.folder, ignore_errors=True)
    return result


# -- the report --------------------------------------------------------------------------------
def print_table(results: dict) -> None:
    header = ("database", "run", "acked guesses", "acked votes", "lost (all runs so far)",
              "unacked (stored anyway)", "in flight at kill", "restart to ready")  # fmt: skip
    rows = []
    for db in results["databases"]:
        for run in db["runs"]:
            unacked = run["unacknowledged_guesses"] + run["unacknowledged_votes"]
            stored = run["unacknowledged_but_stored"]
            restart = run["restart"]
            ready = f"{restart['ready_s']:.2f} s ({restart['ready_endpoint']})"
            rows.append(
                (
                    db["database"],
                    str(run["run"]),
                    str(run["acknowledged_guesses"]),
                    str(run["acknowledged_votes"]),
                    str(run["lost"]),
                    f"{unacked} ({stored})",
                    str(run["in_flight_at_kill"]),
                    ready,
                )
            )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    verdict = "not one acknowledged guess or vote lost" if results["ok"] else "LOST OR MISMATCH"
    print(verdict)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="crashes per database (default 3)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/crash.json"))
    parser.add_argument("--clients", type=int, default=16, help="solo players (default 16)")
    parser.add_argument("--voters", type=int, default=6, help="classroom voters (default 6)")
    parser.add_argument(
        "--load-seconds", type=float, default=4.0, help="load before the kill (default 4)"
    )
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"checkpoints to serve (default: {','.join(DEFAULT_MODELS)}; the judge too)",
    )
    parser.add_argument("--pool-target", type=int, default=4, help="POOL_TARGET (default 4)")
    parser.add_argument("--timeout", type=float, default=30, help="per-request timeout (s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    checkpoints = resolve_models(args.models)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results: dict = {
        "command": " ".join(["benchmarks/crash.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "the load generator and the server share these cores",
        },
        "settings": {
            "clients": args.clients,
            "voters": args.voters,
            "load_seconds": args.load_seconds,
            "rounds": args.rounds,
            "models": [p.stem for p in checkpoints],
            "pool_target": args.pool_target,
            "rate_limits": "off (RATE_LIMITS=false)",
            "kill": "os.killpg(server pgid, SIGKILL)",
            "cumulative": "every run on the same database; the books cover every run so far",
        },
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip(),
        # uncommitted changes the server ran with (the working tree, not only HEAD)
        "uncommitted": subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "pyproject.toml"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")[:-1],
        "databases": [],
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="realornn-crash-") as tmp:
        for database in databases:
            results["databases"].append(
                run_database(database, args, checkpoints, Path(tmp) / database)
            )
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["ok"] = all(
        run["ok"] and not run["crash"]["survivors"]
        for db in results["databases"]
        for run in db["runs"]
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
