"""What one scripted client can post in 10 s, with the rate limits off (as before them) and on.

Starts a real `realornn serve` (the shipped char 7-gram, a fresh SQLite file) with RATE_LIMITS
false and then true, and for 10 s each lets one client, as fast as the server answers:
  - play rounds and guesses, keeping its cookie (one player);
  - create rounds, dropping its cookie every time (a new player per request, one address);
  - join a room under made-up nicknames and vote (the classroom);
  - ask for samples.
It prints, for each, the requests answered 2xx and 429 (and the first Retry-After seen).

    cd benchmarks && OMP_NUM_THREADS=1 ../.venv/bin/python ratelimit.py \\
        --out results/ratelimit.json
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from serve import Server, free_port  # benchmarks/serve.py

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = REPO_ROOT / "models" / "char-7gram-kn.safetensors"


def start(folder: Path, rate_limits: bool) -> tuple[Server, str]:
    models = folder / "models"
    models.mkdir(parents=True)
    shutil.copy(MODEL, models / MODEL.name)
    port = free_port()
    env = os.environ | {
        "DATA_DIR": str(folder),
        "MODELS_DIR": str(models),
        "RATE_LIMITS": "true" if rate_limits else "false",
        "POOL_TARGET": "8",
        "OMP_NUM_THREADS": "1",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    server = Server("server", command, env, folder / "server.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"the server did not get ready:\n{server.tail()}")


def for_ten_seconds(step, seconds: float) -> dict:
    statuses: Counter[int] = Counter()
    retry_after = None
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for response in step():
            statuses[response.status_code] += 1
            if response.status_code == 429 and retry_after is None:
                retry_after = response.headers.get("retry-after")
    accepted = sum(n for code, n in statuses.items() if 200 <= code < 300)
    return {
        "accepted": accepted,
        "429": statuses[429],
        "other": dict(statuses),
        "retry_after": retry_after,
    }


def scenarios(url: str, seconds: float) -> dict:
    results = {}
    with httpx.Client(base_url=url, timeout=30) as player:

        def play():
            made = player.post("/api/rounds", json={"mode": "pair"})
            if made.status_code != 201:
                return [made]
            guess = player.post(f"/api/rounds/{made.json()['round_id']}/guess", json={"choice": 0})
            return [made, guess]

        results["rounds and guesses, one player"] = for_ten_seconds(play, seconds)

    with httpx.Client(base_url=url, timeout=30) as script:

        def fresh_players():
            script.cookies.clear()
            return [script.post("/api/rounds", json={"mode": "pair"})]

        results["rounds, a new player each (cookie dropped)"] = for_ten_seconds(
            fresh_players, seconds
        )

    with httpx.Client(base_url=url, timeout=30) as host:
        created = host.post("/api/rooms", json={"rounds": 30}).json()
        code, bearer = created["code"], {"authorization": f"Bearer {created['host_token']}"}
        round_id = host.post(f"/api/rooms/{code}/rounds", headers=bearer).json()["round_id"]
        names = iter(range(10**9))

        def join_and_vote():
            joined = host.post(f"/api/rooms/{code}/players", json={"nickname": f"bot{next(names)}"})
            if joined.status_code != 201:
                return [joined]
            token = {"authorization": f"Bearer {joined.json()['player_token']}"}
            vote = host.post(
                f"/api/rooms/{code}/rounds/{round_id}/votes", json={"choice": 0}, headers=token
            )
            return [joined, vote]

        results["room joins and votes, made-up students"] = for_ten_seconds(join_and_vote, seconds)

    with httpx.Client(base_url=url, timeout=30) as sampler:

        def sample():
            return [sampler.get("/api/samples", params={"model": "char-7gram-kn", "length": 200})]

        results["samples (200 characters)"] = for_ten_seconds(sample, seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = {}
    for rate_limits in (False, True):
        with tempfile.TemporaryDirectory(prefix="realornn-ratelimit-") as folder:
            server, url = start(Path(folder), rate_limits)
            try:
                report["on" if rate_limits else "off"] = scenarios(url, args.seconds)
            finally:
                server.stop()
    head = f"one client, {args.seconds:g} s"
    print(f"{head:<46} {'limits off':>12} {'limits on':>12} {'429s':>6}  Retry-After")
    for name in report["off"]:
        off, on = report["off"][name], report["on"][name]
        counts = f"{off['accepted']:>12} {on['accepted']:>12} {on['429']:>6}"
        print(f"{name:<46} {counts}  {on['retry_after']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
