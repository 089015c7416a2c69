"""RNN figures: training speed, sampling latency and throughput, and bits per char beside n-grams.

    python benchmarks/rnn.py [--quick] [--only SECTION ...] [--model NAME ...] [--runs N]
                             [--out benchmarks/results/rnn.json]

Prints markdown tables (copied into docs/benchmarks.md) and writes the figures as JSON:
  1. training chars/s on this CPU for a few LSTM shapes, float32 and bfloat16 autocast
     (and on a GPU when there is one);
  2. latency of one 400-character passage, single stream (p50 of several runs), and batched
     sampling chars/s, for every RNN checkpoint in models/, with 1 and 2 torch threads; and the
     same with the game's constraints on: a fake written to face a ~400-character real excerpt
     of the test plays on its scaffold, after the scene's 600 preceding characters, under the
     lexicon (medium), seeds retried as the game retries them; and hard's batch of
     HARD_CANDIDATES candidates, the judge's pick (the copy guard, ~3 ms, left out);
  3. bits per char of every shipped model, n-grams included: on the test plays (the figure the
     checkpoint recorded when it was trained) and on tiny-shakespeare's last 10% (computed here).
Run it alone: two torch jobs at once on 2 cores slow each other many-fold.

`--only sampling` runs section 2 alone (`--model char-lstm-2x512` for the shipped model only,
`--runs 31` for a steadier p50 on a shared machine); a partial run writes
benchmarks/results/rnn-SECTIONS.json unless --out says otherwise, never the full results.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.corpus import context_before, load_corpus, sample_excerpt  # noqa: E402
from app.game.judge import Judge  # noqa: E402
from app.game.passages import CONTEXT_LENGTH, Writing, make_facing_passage  # noqa: E402
from app.lm.checkpoints import find_checkpoints, load_checkpoint, read_header  # noqa: E402
from app.lm.constraints import training_lexicon  # noqa: E402
from app.lm.rnn import CharRNN, RNNConfig  # noqa: E402
from app.lm.sampling import SamplingParams  # noqa: E402

TINY = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
SECTIONS = ("training", "sampling", "bits")
TRAIN_SHAPES = [  # (cell, hidden, layers, batch, bptt)
    ("lstm", 256, 2, 64, 128),
    ("lstm", 512, 2, 64, 128),
    ("lstm", 512, 2, 128, 128),
    ("gru", 512, 2, 64, 128),
    ("elman", 512, 1, 64, 128),
]


def training_speed(
    cell: str, hidden: int, layers: int, batch: int, bptt: int, bf16: bool, device: str, steps: int
) -> float:
    """Median chars/s of full training steps (forward, backward, AdamW) on random text."""
    torch.manual_seed(0)
    vocab = 97
    network = CharRNN(RNNConfig(cell=cell, hidden_size=hidden, layers=layers), vocab).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
    x = torch.randint(0, vocab, (batch, bptt), device=device)
    y = torch.randint(0, vocab, (batch, bptt), device=device)
    times = []
    for _ in range(steps + 2):
        started = time.perf_counter()
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            logits, _ = network(x)  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return batch * bptt / statistics.median(times[2:])  # the first steps warm up


def sampling_figures(path: Path, threads: int, runs: int) -> dict:
    """p50 (and min) latency of one 400-character passage, K=1, seeds 0..runs-1, after a warm-up;
    then one batch of 16 passages."""
    torch.set_num_threads(threads)
    model = load_checkpoint(path)
    model.sample(SamplingParams(length=50, seed=0))  # warm-up
    latencies = []
    for seed in range(runs):
        started = time.perf_counter()
        model.sample(SamplingParams(length=400, seed=seed, prime="ROSALIND:\n"))
        latencies.append(time.perf_counter() - started)
    batch = 16
    started = time.perf_counter()
    model.sample(SamplingParams(length=400, seed=0), count=batch)
    batched = batch * 400 / (time.perf_counter() - started)
    constrained = constrained_latencies(model, runs)
    return {
        "model": model.name,
        "threads": threads,
        "latency_400_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "latency_400_min_ms": round(min(latencies) * 1000, 1),
        "single_stream_chars_per_second": round(400 / statistics.median(latencies)),
        f"batched_{batch}_chars_per_second": round(batched),
        "constrained_400_p50_ms": round(statistics.median(constrained["one"]) * 1000, 1),
        f"hard_best_of_{constrained['candidates']}_p50_ms": round(
            statistics.median(constrained["hard"]) * 1000, 1
        ),
        "runs": runs,
    }


GAME: dict = {}  # the corpus, its lexicon and the judge, built once for every model


def constrained_latencies(model, runs: int) -> dict:
    """Seconds per fake written as the game writes one at 0.75: `one` on the excerpt's scaffold
    under the lexicon, `hard` the best of HARD_CANDIDATES by the shipped judge."""
    if not GAME:
        GAME["corpus"] = load_corpus()
        GAME["lexicon"] = training_lexicon(GAME["corpus"])
        settings = Settings()
        path = settings.resolved_judge_path()
        GAME["judge"] = Judge.load(path).scores if path.is_file() else None
        GAME["candidates"] = settings.hard_candidates
    corpus = GAME["corpus"]
    figures: dict = {"one": [], "hard": [], "candidates": GAME["candidates"]}
    for seed in range(runs):
        excerpt = sample_excerpt(corpus, 400, seed=seed, split="test")
        context = context_before(corpus, excerpt, CONTEXT_LENGTH)
        for name, candidates in (("one", 1), ("hard", GAME["candidates"])):
            started = time.perf_counter()
            made = make_facing_passage(
                model,
                excerpt,
                temperature=0.75,
                seed=seed,
                copied_length=lambda text: 0,
                writing=Writing(lexicon=True, candidates=candidates),
                lexicon=GAME["lexicon"],
                judge=GAME["judge"] if candidates > 1 else None,
                context=context,
            )
            figures[name].append(time.perf_counter() - started)
            if made is None:
                print(f"  no passage for excerpt {seed} ({name})", flush=True)
    return figures


def bits_table(tiny_text: str | None) -> list[dict]:
    rows = []
    for path in find_checkpoints(ROOT / "models"):
        info, _ = read_header(path)
        row = {
            "model": info.name,
            "kind": info.kind,
            "test_plays_bits_per_char": info.figures.get("test_bits_per_char"),
            "val_plays_bits_per_char": info.figures.get("val_bits_per_char"),
        }
        if tiny_text:
            started = time.perf_counter()
            bits = load_checkpoint(path).bits_per_char(tiny_text)
            row["tiny_val_bits_per_char"] = round(bits, 4)
            row["tiny_val_nats_per_char"] = round(bits * math.log(2), 4)
            row["tiny_eval_seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and runs (~2 minutes)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable): training, sampling (latency and batched "
        "throughput) or bits",
    )
    parser.add_argument(
        "--model", action="append", help="sampling: only this checkpoint name (repeatable)"
    )
    parser.add_argument(
        "--runs", type=int, help="sampling: passages per latency p50 (default 7, --quick 3)"
    )
    parser.add_argument("--out", type=Path, help="default benchmarks/results/rnn.json")
    args = parser.parse_args()
    sections = args.only or list(SECTIONS)
    if args.out is None:
        name = "rnn" if args.only is None else "rnn-" + "-".join(sorted(set(sections)))
        args.out = ROOT / "benchmarks" / "results" / f"{name}.json"
    started = time.perf_counter()
    results: dict = {
        "meta": {
            "command": " ".join(["python", *sys.argv]),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
            "torch": torch.__version__,
        }
    }

    if "training" in sections:
        torch.set_num_threads(2)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        shapes = TRAIN_SHAPES[:2] if args.quick else TRAIN_SHAPES
        training = []
        for device in devices:
            for cell, hidden, layers, batch, bptt in shapes:
                for bf16 in (False, True):
                    speed = training_speed(
                        cell, hidden, layers, batch, bptt, bf16, device, 3 if args.quick else 6
                    )
                    training.append(
                        {
                            "device": device,
                            "model": f"{cell} {layers}x{hidden}",
                            "batch": batch,
                            "bptt": bptt,
                            "compute": "bfloat16" if bf16 else "float32",
                            "train_chars_per_second": round(speed),
                        }
                    )
                    print(training[-1], flush=True)
        results["training"] = training
        print("\n## Training speed\n" + markdown(training), flush=True)

    if "sampling" in sections:
        runs = args.runs or (3 if args.quick else 7)
        sampling = []
        for path in find_checkpoints(ROOT / "models"):
            info = read_header(path)[0]
            if info.kind != "rnn" or (args.model and info.name not in args.model):
                continue
            for threads in (1, 2):
                sampling.append(sampling_figures(path, threads, runs))
                print(sampling[-1], flush=True)
        results["sampling"] = sampling
        print("\n## Sampling\n" + markdown(sampling), flush=True)

    if "bits" in sections:
        torch.set_num_threads(2)
        tiny_text = load_corpus(TINY).text("val") if TINY.exists() else None
        results["bits_per_char"] = bits_table(None if args.quick else tiny_text)
        print("\n## Bits per char\n" + markdown(results["bits_per_char"]), flush=True)

    results["meta"]["total_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.out} in {results['meta']['total_seconds']} s")


if __name__ == "__main__":
    main()
