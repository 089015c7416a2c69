"""A classroom under load: N simulated students join one room and vote within a few seconds
while a simulated projector listens to the room's event stream.

    python benchmarks/classroom.py                 # 200 students, votes spread over 5 s
    python benchmarks/classroom.py --students 400 --spread 5 --json

It starts a real `realornn serve` on a temporary SQLite file (the shipped char 7-gram as the only
model), then checks the issue's goals: every vote stored exactly once (acknowledged votes, the
room's count, the reveal's tally and the rows in the SQLite file all agree; no duplicates), and
the projector's count reflecting each vote within 1 second of its acknowledgement. The server,
the students and the projector share this machine's cores.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from serve import Server, free_port, wait_until  # benchmarks/serve.py: the same server handling

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "char-7gram-kn.safetensors"


def start_server(folder: Path, port: int, workers: int) -> Server:
    models = folder / "models"
    models.mkdir()
    shutil.copy(MODEL, models / MODEL.name)
    env = os.environ | {
        "DATA_DIR": str(folder / "data"),
        "DATABASE_URL": f"sqlite:///{folder / 'data' / 'bench.db'}",
        "MODELS_DIR": str(models),
        "POOL_TARGET": "2",
    }
    env.pop("SECRET_KEY", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    return Server("game", command, env, folder / "server.log")


async def projector(base: str, code: str, seen: list, ready: asyncio.Event, stop: asyncio.Event):
    """Listen to the event stream; record (time, votes) for every state event."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as client,
        client.stream("GET", f"/api/rooms/{code}/events") as response,
    ):
        ready.set()
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "state":
                state = json.loads(line[6:])
                votes = (state.get("round") or {}).get("votes", 0)
                seen.append((time.perf_counter(), votes, state["status"]))
            if stop.is_set():
                return


async def run(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="realornn-classroom-"))
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(folder, port, args.workers)
    try:
        wait_until(server, f"{base}/healthz", lambda body: True, 120, "/healthz")
        limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            created = (await client.post("/api/rooms", json={"rounds": 1})).json()
            code, host = created["code"], {"Authorization": f"Bearer {created['host_token']}"}
            seen: list = []
            ready, stop = asyncio.Event(), asyncio.Event()
            listener = asyncio.create_task(projector(base, code, seen, ready, stop))
            await ready.wait()

            join_start = time.perf_counter()

            async def join(i: int) -> str:
                response = await client.post(
                    f"/api/rooms/{code}/players", json={"nickname": f"student{i:03d}"}
                )
                response.raise_for_status()
                return response.json()["player_token"]

            tokens = await asyncio.gather(*(join(i) for i in range(args.students)))
            join_seconds = time.perf_counter() - join_start
            client.cookies.clear()
            started = await client.post(f"/api/rooms/{code}/rounds", headers=host)
            round_id = started.json()["round_id"]
            rng = random.Random(args.seed)
            acks: list[float] = []
            statuses: dict[int, int] = {}
            vote_start = time.perf_counter()

            async def vote(token: str) -> None:
                await asyncio.sleep(rng.uniform(0, args.spread))
                response = await client.post(
                    f"/api/rooms/{code}/rounds/{round_id}/votes",
                    json={"choice": rng.randrange(2)},
                    headers={"Authorization": f"Bearer {token}"},
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 201:
                    acks.append(time.perf_counter())

            await asyncio.gather(*(vote(t) for t in tokens))
            vote_seconds = time.perf_counter() - vote_start
            # a second vote from everyone: must all be refused
            doubles = await asyncio.gather(*(
                client.post(f"/api/rooms/{code}/rounds/{round_id}/votes", json={"choice": 0},
                            headers={"Authorization": f"Bearer {t}"})
                for t in tokens[: min(50, len(tokens))]
            ))  # fmt: skip
            await asyncio.sleep(1.5)  # let the projector see the last vote
            state = (await client.get(f"/api/rooms/{code}")).json()
            reveal = (
                await client.post(f"/api/rooms/{code}/rounds/{round_id}/reveal", headers=host)
            ).json()
            stop.set()
            listener.cancel()
    finally:
        server.stop()
    with sqlite3.connect(folder / "data" / "bench.db") as db:
        rows = db.execute("SELECT count(*), count(DISTINCT player_id) FROM guesses "
                          "WHERE round_id = ?", (round_id,)).fetchone()  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)

    # lag: the k-th acknowledged vote against the first projector event showing >= k votes
    # (0 when the projector saw it before the student's acknowledgement arrived)
    acks.sort()
    lags = []
    for k, acked in enumerate(acks, start=1):
        shown = next((t for t, votes, _ in seen if votes >= k), None)
        lags.append(max(0.0, shown - acked) if shown is not None else float("inf"))
    return {
        "students": args.students,
        "workers": args.workers,
        "join_seconds": round(join_seconds, 3),
        "vote_seconds": round(vote_seconds, 3),
        "vote_statuses": statuses,
        "acknowledged_votes": len(acks),
        "second_votes_refused": sum(r.status_code == 409 for r in doubles),
        "second_votes_tried": len(doubles),
        "room_count": state["round"]["votes"],
        "reveal_tally": sum(reveal["tally"]),
        "stored_rows": rows[0],
        "stored_distinct_players": rows[1],
        "projector_events": len(seen),
        "projector_final_count": max((v for _, v, _ in seen), default=0),
        "lag_p50_ms": round(1000 * statistics.median(lags), 1) if lags else None,
        "lag_p99_ms": round(1000 * sorted(lags)[int(0.99 * (len(lags) - 1))], 1) if lags else None,
        "lag_max_ms": round(1000 * max(lags), 1) if lags else None,
        "votes_later_than_1s": sum(lag > 1.0 for lag in lags),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--spread", type=float, default=5.0, help="seconds the votes spread over")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=100, help="client connection pool")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    n = result["acknowledged_votes"]
    ok_once = (
        n
        == result["room_count"]
        == result["reveal_tally"]
        == result["stored_rows"]
        == (result["stored_distinct_players"])
    )
    print(f"{result['students']} students, {result['workers']} worker(s)")
    print(f"  joined in {result['join_seconds']} s; voted over {result['vote_seconds']} s")
    print(
        f"  votes acknowledged {n}; room count {result['room_count']}; reveal tally "
        f"{result['reveal_tally']}; rows stored {result['stored_rows']} "
        f"({result['stored_distinct_players']} players)  -> exactly once: {ok_once}"
    )
    print(
        f"  second votes refused: {result['second_votes_refused']} of "
        f"{result['second_votes_tried']}; statuses {result['vote_statuses']}"
    )
    print(
        f"  projector: {result['projector_events']} events, final count "
        f"{result['projector_final_count']}; lag from acknowledgement to the projector's "
        f"count: p50 {result['lag_p50_ms']} ms, p99 {result['lag_p99_ms']} ms, "
        f"max {result['lag_max_ms']} ms (goal: under 1000 ms)"
    )


if __name__ == "__main__":
    main()
