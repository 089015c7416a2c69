"""What gives a fake away? The tells of the passages the game serves, measured through its API.

    .venv/bin/python benchmarks/tells.py                          # 150 pair rounds per difficulty
    .venv/bin/python benchmarks/tells.py --rounds 200 --json      # as JSON on stdout
    .venv/bin/python benchmarks/tells.py --repo ../before --label before   # another checkout

It starts a real `realornn serve` (from --repo, default this checkout: so the same script
measures the game as it was before a change) on a fresh SQLite file with the shipped
checkpoints of models/ (and the machine judge, where the checkout has one), waits until the
passage pool is warm (POOL_TARGET passages for every (model, temperature) key, enough for
--rounds distinct passages per difficulty), then plays --rounds pair rounds at each of easy,
medium and hard through POST /api/rounds and its guess, as a player would, and reads what the
player sees: the two passages and, after the guess, which is real, the real excerpt's play and
the generated one's model. For real and generated side by side it prints:

    cast            passages with a speaker who is not in the real excerpt's play
    speakers        distinct speakers per passage; "more speakers is fake" as a rule
    lines/speech    lines per speech
    invented words  spoken words found in none of the 37 plays
    heading lines   spoken lines that read like a speaker's heading ("ROMEO: away")
    length ratio    generated / real characters: the median, and the share within 10%
    judge           a fresh machine judge (app/game/judge.py's features, logistic regression),
                    cross-validated on the served pairs, grouped by pair (5 folds): its pair
                    accuracy by difficulty and by model, trained on all levels at once, and
                    trained within each level

It also reads how fast the refiller wrote while warming: passages are written one at a time, so
the gap between one stored passage and the next is what the next one cost (rejected tries
included); by difficulty, that gives the refiller's passages per minute at each level.

A served passage that comes round twice (the bank reuses served passages when a key runs dry)
counts once. Figures: docs/tells.md.
"""

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import REPO_ROOT, Server, free_port, wait_until  # benchmarks/serve.py

sys.path.insert(0, str(REPO_ROOT))
from app.corpus import WORD, load_corpus, speeches_of  # noqa: E402
from app.game.judge import Judge, JudgeConfig  # noqa: E402
from app.game.judge_training import Example, cross_validated_pair_accuracy  # noqa: E402
from app.game.rules import TEMPERATURES  # noqa: E402

DIFFICULTIES = ("easy", "medium", "hard")
HEADING_LIKE = re.compile(r"^[A-Z][A-Z' ]*[A-Z]:")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- serving -----------------------------------------------------------------------------------
def start_server(repo: Path, folder: Path, pool_target: int) -> tuple[Server, str]:
    models = folder / "models"
    models.mkdir()
    for checkpoint in sorted((repo / "models").glob("*.safetensors")):
        (models / checkpoint.name).symlink_to(checkpoint.resolve())
    judge = repo / "models" / "judge"
    if judge.is_dir():
        (models / "judge").symlink_to(judge.resolve())
    port = free_port()
    env = os.environ | {
        "DATA_DIR": str(folder / "data"),
        "DATABASE_URL": f"sqlite:///{folder / 'data' / 'tells.db'}",
        "MODELS_DIR": str(models),
        "POOL_TARGET": str(pool_target),
        "POOL_BANK_MAX": str(max(400, pool_target)),
    }
    env.pop("SECRET_KEY", None)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    server = Server("game", command, env, folder / "server.log", cwd=repo)
    return server, f"http://127.0.0.1:{port}"


def keys_in_game(base: str) -> int:
    import httpx

    models = httpx.get(f"{base}/api/models", timeout=10).json()["models"]
    return sum(len(TEMPERATURES.get(m["kind"], (1.0,))) for m in models if m["in_game"])


def play(base: str, difficulty: str, rounds: int, rng: random.Random) -> list[dict]:
    """`rounds` distinct pair rounds at `difficulty`: what was seen and what the reveal said."""
    import httpx

    seen: dict[str, dict] = {}
    tries = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        while len(seen) < rounds and tries < rounds * 3:
            tries += 1
            shown = client.post("/api/rounds", json={"mode": "pair", "difficulty": difficulty})
            shown.raise_for_status()
            body = shown.json()
            texts = [p["text"] for p in body["passages"]]
            answer = client.post(
                f"/api/rounds/{body['round_id']}/guess", json={"choice": rng.randrange(2)}
            )
            answer.raise_for_status()
            revealed = answer.json()
            real_index = revealed["answer"]
            real_source = revealed["passages"][real_index]["source"]
            fake_source = revealed["passages"][1 - real_index]["source"]
            generated = texts[1 - real_index]
            if generated in seen:
                continue
            seen[generated] = {
                "difficulty": difficulty,
                "real": texts[real_index],
                "generated": generated,
                "play": real_source.get("play_slug") or real_source.get("play"),
                "model": fake_source["model"],
                "temperature": fake_source["temperature"],
                "judge": revealed.get("judge"),
            }
    if len(seen) < rounds:
        log(f"{difficulty}: only {len(seen)} distinct passages in {tries} rounds")
    return list(seen.values())


# -- the tells ---------------------------------------------------------------------------------
class Measures:
    """What a careful player could learn from, for one text, against the plays."""

    def __init__(self):
        corpus = load_corpus()
        self.casts: dict[str, set[str]] = {}
        self.words: set[str] = set()
        for play in corpus.plays:
            cast = {speech.speaker for speech in play.speeches}
            self.casts[play.slug] = cast
            self.casts[play.title] = cast
            for speech in play.speeches:
                for line in speech.lines:
                    self.words.update(WORD.findall(line))

    def of(self, text: str, play: str) -> dict:
        speeches = speeches_of(text)
        cast = self.casts.get(play, set())
        words = [w for _, lines in speeches for line in lines for w in WORD.findall(line)]
        return {
            "outside_cast": any(speaker not in cast for speaker, _ in speeches),
            "speakers": len({speaker for speaker, _ in speeches}),
            "lines_per_speech": statistics.mean(len(lines) for _, lines in speeches),
            "words": len(words),
            "invented": sum(word not in self.words for word in words),
            "heading_lines": sum(
                bool(HEADING_LIKE.match(line)) for _, lines in speeches for line in lines
            ),
            "length": len(text),
        }


def side_by_side(rows: list[dict], measures: Measures) -> dict:
    real = [measures.of(r["real"], r["play"]) for r in rows]
    fake = [measures.of(r["generated"], r["play"]) for r in rows]

    def figures(side: list[dict]) -> dict:
        words = sum(m["words"] for m in side)
        return {
            "outside_cast": round(sum(m["outside_cast"] for m in side) / len(side), 4),
            "speakers": round(statistics.mean(m["speakers"] for m in side), 2),
            "lines_per_speech": round(statistics.mean(m["lines_per_speech"] for m in side), 2),
            "invented_words": round(sum(m["invented"] for m in side) / max(words, 1), 4),
            "heading_lines": sum(m["heading_lines"] for m in side),
        }

    ratios = [f["length"] / r["length"] for r, f in zip(real, fake, strict=True)]
    more_speakers = [  # "the side with more speakers is fake": right, wrong or no call
        (f["speakers"] > r["speakers"]) - (f["speakers"] < r["speakers"])
        for r, f in zip(real, fake, strict=True)
    ]
    return {
        "pairs": len(rows),
        "real": figures(real),
        "generated": figures(fake),
        "length_ratio_median": round(statistics.median(ratios), 3),
        "length_within_10pct": round(sum(abs(x - 1) <= 0.10 for x in ratios) / len(ratios), 4),
        # the rule's accuracy, a tie a coin toss
        "more_speakers_rule": round(sum(0.5 + 0.5 * m for m in more_speakers) / len(rows), 4),
    }


def judge_figures(rows: list[dict], seed: int) -> dict:
    config = JudgeConfig()
    examples = [
        Example(r["model"], r["temperature"], r["difficulty"], r["real"], r["generated"])
        for r in rows
    ]
    overall, verdicts = cross_validated_pair_accuracy(examples, config, folds=5, seed=seed)

    def accuracy_by(key) -> dict:
        groups: dict[str, list[bool]] = {}
        for example, right in zip(examples, verdicts, strict=True):
            groups.setdefault(key(example), []).append(right)
        return {k: round(sum(v) / len(v), 4) for k, v in sorted(groups.items())}

    within = {}
    for difficulty in DIFFICULTIES:
        level = [e for e in examples if e.difficulty == difficulty]
        if len(level) >= 10:
            within[difficulty] = round(
                cross_validated_pair_accuracy(level, config, folds=5, seed=seed)[0], 4
            )
    served_verdicts = [r["judge"]["correct"] for r in rows if r.get("judge")]
    ours = REPO_ROOT / "models" / "judge" / "judge.safetensors"  # this checkout's, on any rounds
    shipped = None
    if ours.is_file():
        scores = Judge.load(ours).scores
        real, fake = scores([r["real"] for r in rows]), scores([r["generated"] for r in rows])
        shipped = round(float((real > fake).mean()), 4)
    return {
        "overall": round(overall, 4),
        "by_difficulty": accuracy_by(lambda e: e.difficulty),
        "by_model": accuracy_by(lambda e: e.model),
        "within_level": within,
        # the server's judge, as its reveal said (None: a server without one)
        "served_judge_on_these_rounds": (
            round(sum(served_verdicts) / len(served_verdicts), 4) if served_verdicts else None
        ),
        "this_checkouts_judge_on_these_rounds": shipped,
    }


def refill_rates(database: Path, rows: list[dict], warmed: int) -> dict:
    """Seconds per passage and passages per minute by difficulty, from the times of the first
    `warmed` passages stored, those of the warming pool (the refiller writes one at a time; once
    rounds are played it waits on them)."""
    import sqlite3
    from datetime import datetime

    difficulty_of = {(r["model"], r["temperature"]): r["difficulty"] for r in rows}
    with sqlite3.connect(database) as connection:
        stored = connection.execute(
            "SELECT model, temperature, created_at FROM passages ORDER BY id LIMIT ?", (warmed,)
        ).fetchall()
    costs: dict[str, list[float]] = {}
    for (_, _, before), (model, temperature, after) in zip(stored, stored[1:], strict=False):
        gap = (datetime.fromisoformat(after) - datetime.fromisoformat(before)).total_seconds()
        level = difficulty_of.get((model, temperature))
        if level is not None:
            costs.setdefault(level, []).append(gap)
    return {
        level: {
            "passages": len(gaps),
            "seconds_per_passage": round(statistics.mean(gaps), 3),
            "passages_per_minute": round(60 / statistics.mean(gaps), 1),
        }
        for level, gaps in sorted(costs.items())
    }


# -- the run -----------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict:
    repo = Path(args.repo).resolve()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tells-") as tmp:
        folder = Path(tmp)
        server, base = start_server(repo, folder, args.pool_target)
        try:
            wait_until(server, f"{base}/healthz", lambda b: b.get("status") == "ok", 120, "health")
            full = keys_in_game(base) * args.pool_target
            started = time.monotonic()
            log(f"warming the pool: {full} passages ({args.pool_target} per key)")
            last = [-1]

            def warm(body: dict) -> bool:
                ready = body.get("pool_ready", 0)
                if ready // 50 != last[0] // 50:
                    log(f"  {ready}/{full} after {time.monotonic() - started:.0f} s")
                last[0] = ready
                return ready >= full

            wait_until(server, f"{base}/healthz", warm, args.warm_timeout, "a warm pool")
            warm_seconds = time.monotonic() - started
            rows = []
            for difficulty in DIFFICULTIES:
                rows += play(base, difficulty, args.rounds, rng)
                log(f"{difficulty}: {sum(r['difficulty'] == difficulty for r in rows)} rounds")
        finally:
            server.stop()
        refill = refill_rates(folder / "data" / "tells.db", rows, full)
    measures = Measures()
    by_difficulty = {
        d: side_by_side([r for r in rows if r["difficulty"] == d], measures) for d in DIFFICULTIES
    }
    result = {
        "label": args.label,
        "repo": str(repo),
        "rounds_per_difficulty": args.rounds,
        "pool_target": args.pool_target,
        "warm_pool_seconds": round(warm_seconds, 1),
        "passages_per_minute_warming": round(full / warm_seconds * 60, 1),
        "refill_by_difficulty": refill,
        "overall": side_by_side(rows, measures),
        "by_difficulty": by_difficulty,
        "by_model": {
            m: side_by_side([r for r in rows if r["model"] == m], measures)
            for m in sorted({r["model"] for r in rows})
        },
        "judge": judge_figures(rows, args.seed),
    }
    if args.save_rounds:
        Path(args.save_rounds).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return result


def print_table(result: dict) -> None:
    print(f"# tells of what the API serves ({result['label']}): {result['repo']}")
    print(
        f"pool warm in {result['warm_pool_seconds']} s "
        f"({result['passages_per_minute_warming']} passages/min)"
    )
    for level, rate in result["refill_by_difficulty"].items():
        print(
            f"  refill at {level}: {rate['passages_per_minute']} passages/min "
            f"({rate['seconds_per_passage']} s each, {rate['passages']} passages)"
        )
    header = (
        f"{'':16} {'pairs':>5} {'cast R/G':>13} {'speakers R/G':>12} {'lines/sp R/G':>12} "
        f"{'invented R/G':>13} {'heading':>7} {'len ratio':>9} {'in 10%':>6} {'more-sp':>7}"
    )
    print(header)
    groups = [("overall", result["overall"])] + list(result["by_difficulty"].items())
    groups += list(result["by_model"].items())
    for name, t in groups:
        r, g = t["real"], t["generated"]
        print(
            f"{name[:16]:16} {t['pairs']:>5} "
            f"{r['outside_cast']:>6.1%}/{g['outside_cast']:<6.1%} "
            f"{r['speakers']:>5}/{g['speakers']:<6} "
            f"{r['lines_per_speech']:>5}/{g['lines_per_speech']:<6} "
            f"{r['invented_words']:>6.2%}/{g['invented_words']:<6.2%} "
            f"{g['heading_lines']:>7} {t['length_ratio_median']:>9} "
            f"{t['length_within_10pct']:>6.0%} {t['more_speakers_rule']:>7.0%}"
        )
    judge = result["judge"]
    print(f"judge (cross-validated on the served pairs): overall {judge['overall']:.1%}")
    for name in ("by_difficulty", "by_model", "within_level"):
        print(f"  {name}: " + ", ".join(f"{k} {v:.1%}" for k, v in judge[name].items()))
    for name in ("served_judge_on_these_rounds", "this_checkouts_judge_on_these_rounds"):
        if judge[name] is not None:
            print(f"  {name.replace('_', ' ')}: {judge[name]:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(REPO_ROOT), help="the checkout whose server to run")
    parser.add_argument("--label", default="this checkout", help="a name for the table")
    parser.add_argument("--rounds", type=int, default=150, help="pair rounds per difficulty")
    parser.add_argument(
        "--pool-target",
        type=int,
        default=75,
        help="POOL_TARGET: passages kept ready per key, so that rounds seldom repeat one",
    )
    parser.add_argument("--warm-timeout", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-rounds", default="", help="write the rounds played to this file")
    parser.add_argument("--out", default="", help="write the result as JSON to this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
