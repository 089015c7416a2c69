"""How good, big and fast are the n-gram models? Bits per char, build time and memory, checkpoint
size, sampling speed, and how much Shakespeare they copy.

Run from the repository root:

    .venv/bin/python benchmarks/ngram.py            # everything (about 7.5 minutes on 2 cores)
    .venv/bin/python benchmarks/ngram.py --quick    # a small subset (about a minute)

It prints a table as it goes and writes every figure to benchmarks/results/ngram.json
(ngram-quick.json with --quick; --out to choose).
docs/benchmarks.md explains the columns and discusses the results.

Every model is built, scored, saved and sampled in a fresh process (multiprocessing "spawn"), one
at a time, so that each build's peak memory is its own:
    peak MB  = ru_maxrss of that process after NGramModel.train() minus its ru_maxrss just before
               (after the corpus is loaded): the extra resident memory the build needed at its
               peak, model tables included. Counting arrays live on as the model, so this is an
               upper bound on the model's own size in memory.
    build s  = wall time of NGramModel.train(): tokenising, vocabulary, counting and preparing the
               smoothing tables (the checkpoint records only the first three as build_seconds).
    ckpt MB  = size of the file save_ngram() writes (1 MB = 10^6 bytes).
    sample   = characters per second of one 2,000-character passage (temperature 1.0, seed 0),
               the fastest of three identical runs.
Selection of the best model is on the validation plays; the test plays are reported alongside.
"""

import argparse
import datetime
import json
import math
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `app` imports when run as a plain script

TINY_SHAKESPEARE = REPO_ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "ngram.json"
QUICK_OUT = (
    REPO_ROOT / "benchmarks" / "results" / "ngram-quick.json"
)  # never overwrites the full run
SHIPPED = ("char-7gram-kn", "word-5gram-kn")

CHAR_ORDERS = tuple(range(2, 11))
WORD_ORDERS = tuple(range(1, 6))
SMOOTHINGS = ("kn", "wb", "addk", "stupid")
# MLE gives probability 0 to every unseen event; it is shown at the lowest orders only, where the
# reader can see that even there a single unseen bigram makes the held-out cost infinite.
MLE_CONFIGS = (("char", 2), ("word", 1))
# One step past the requested word orders (MAX_ORDER allows 6), to see whether 5 is the optimum.
EXTRA_CONFIGS = (("word", 6, "kn"),)
SAMPLE_LENGTH = 2000  # characters per sampling-speed run (one stream, temperature 1.0, seed 0)
SAMPLE_REPEATS = 3  # chars/s is reported for the fastest of these runs

TINY_ORDERS = (5, 6, 7, 8)
# Published anchors for tiny-shakespeare (first 90% train, last 10% val, characters).
ANCHOR_KN6_BITS = 2.22  # interpolated Kneser-Ney char 6-gram, bits per char
ANCHOR_KN6_NATS = 1.54
ANCHOR_NANOGPT_NATS = 1.4697  # nanoGPT's char transformer (shakespeare_char), val loss in nats
ANCHOR_PLAYS_KN7_TEST_BITS = 2.18  # KN char 7-gram, 34 training plays, 3 held-out plays

COPY_PASSAGE_LENGTH = 600  # the game's passage length, as in benchmarks/copyguard.py
# (unit, order, smoothing, temperature). The Kneser-Ney rows are the question asked; the last two
# show what an unsmoothed (or barely smoothed) 10-gram does when nothing pulls it off the text.
COPY_MODELS = (
    ("char", 5, "kn", 1.0),
    ("char", 7, "kn", 1.0),
    ("char", 10, "kn", 1.0),
    ("char", 7, "kn", 0.8),
    ("word", 5, "kn", 1.0),
    ("char", 10, "stupid", 1.0),
    ("char", 10, "mle", 1.0),
)


# -- work done in a fresh process ---------------------------------------------------------------
def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _load_texts(text_file: str | None) -> tuple[str, dict[str, str], Any]:
    from app.corpus import load_corpus

    corpus = load_corpus(text_file)
    splits = ("val",) if text_file else ("val", "test")
    return corpus.text("train"), {split: corpus.text(split) for split in splits}, corpus


def _kn_counts_of(model, k: int):
    """The counts KN discounts at order k+1: raw counts at the top order, continuation below."""
    if k == model.config.order - 1:
        return model.raw_counts[k]
    return model.counts.continuation[k].astype(float)


def _coverage(model, text: str) -> dict:
    """How sparse the data is at the model's order: of the held-out positions that have a full
    n-1 token context, the share whose context, and whose whole n-gram, occur in training."""
    import numpy as np

    from app.lm.ngram import _lookup

    n, V = model.config.order, len(model.vocabulary)
    if n == 1:
        return {}
    _, ids = model.encode(text)
    contexts = model._gram_ids(ids)[n - 2][: len(ids) - n + 1]  # (n-1)-gram id at each start
    following = ids[n - 1 :]
    seen = contexts >= 0
    whole = np.full(len(contexts), -1, dtype=np.int64)
    whole[seen] = _lookup(model.keys[n - 1], contexts[seen] * V + following[seen])
    return {
        "val_context_seen_rate": round(float(seen.mean()), 4),
        "val_ngram_seen_rate": round(float((whole >= 0).mean()), 4),
    }


def measure_config(job: dict) -> dict:
    """Build one model and measure it. Runs in its own spawned process; returns plain data."""
    import gc
    import tempfile

    import numpy as np

    from app.lm.ngram import NGramConfig, NGramModel, kneser_ney_discounts, save_ngram
    from app.lm.sampling import SamplingParams

    train_text, held_out, corpus = _load_texts(job["text_file"])
    config = NGramConfig(unit=job["unit"], order=job["order"], smoothing=job["smoothing"])
    gc.collect()
    baseline_mb = _max_rss_mb()
    started = time.perf_counter()
    model = NGramModel.train(train_text, config, name=job["name"], corpus=corpus.name)
    build_seconds = time.perf_counter() - started
    peak_mb = _max_rss_mb()

    row: dict[str, Any] = {
        **{k: job[k] for k in ("corpus", "unit", "order", "smoothing")},
        "vocabulary_size": len(model.vocabulary),
        "ngrams": int(sum(len(t) for t in model.counts.tokens)),
        "build_seconds": round(build_seconds, 3),
        "rss_before_build_mb": round(baseline_mb, 1),
        "build_peak_mb": round(peak_mb - baseline_mb, 1),
    }
    row.update(_coverage(model, held_out["val"]))
    if config.smoothing == "kn":  # modified KN's (D1, D2, D3) per order, lowest order first
        row["kn_discounts"] = [
            [round(d, 4) for d in kneser_ney_discounts(_kn_counts_of(model, k))]
            for k in range(config.order)
        ]
    for split, text in held_out.items():
        if config.smoothing == "stupid":
            row[f"{split}_bits_per_char"] = None
            row[f"{split}_note"] = "n/a (unnormalised)"
            continue
        started = time.perf_counter()
        with np.errstate(divide="ignore"):
            bits = model.surprisal(text).bits
        row[f"{split}_eval_seconds"] = round(time.perf_counter() - started, 3)
        zeros = int(np.isinf(bits).sum())
        if zeros:  # MLE: an unseen event has probability 0, so the cost is infinite
            row[f"{split}_bits_per_char"] = None
            row[f"{split}_note"] = f"inf ({zeros} of {len(bits)} tokens get p=0)"
        else:
            bpc = float(bits.sum()) / len(text)
            row[f"{split}_bits_per_char"] = round(bpc, 5)
            row[f"{split}_nats_per_char"] = round(bpc * math.log(2), 5)
        if config.unit == "word":  # how much of the cost is unknown words spelled out
            _, ids = model.encode(text)
            unknown = ids == model.unknown_id
            row[f"{split}_unknown_token_rate"] = round(float(unknown.mean()), 5)
            finite = np.isfinite(bits)
            share = bits[unknown & finite].sum() / bits[finite].sum()
            row[f"{split}_unknown_bits_share"] = round(float(share), 4)

    with tempfile.TemporaryDirectory() as folder:
        path = save_ngram(model, Path(folder) / job["name"])
        row["checkpoint_mb"] = round(path.stat().st_size / 1e6, 3)

    # The same passage SAMPLE_REPEATS times; the fastest run is the least disturbed by other work
    # on the machine (the passage is identical each time: same seed).
    params = SamplingParams(length=SAMPLE_LENGTH, temperature=1.0, seed=0)
    timings = []
    for _ in range(SAMPLE_REPEATS):
        started = time.perf_counter()
        passage = model.sample(params)[0]
        timings.append(time.perf_counter() - started)
    generated = len(passage.text) - len(params.prime)
    row["sample_chars_per_second"] = round(generated / min(timings), 1)
    row["sample_seconds"] = [round(t, 4) for t in timings]
    return row


def measure_copying(job: dict) -> dict:
    """Sample 600-char passages and ask CopyGuard for their longest copied span. Own process.

    The first row is the baseline: 600-char excerpts of the validation plays, real Shakespeare
    that is not in the training text, which shares stock phrases with it all the same.
    """
    import random

    from app.lm.copyguard import CopyGuard
    from app.lm.ngram import NGramConfig, NGramModel
    from app.lm.sampling import SamplingParams

    train_text, held_out, _ = _load_texts(None)
    started = time.perf_counter()
    guard = CopyGuard(train_text)
    result: dict[str, Any] = {
        "training_chars": len(train_text),
        "guard_build_seconds": round(time.perf_counter() - started, 3),
        "passage_length": COPY_PASSAGE_LENGTH,
        "passages_per_model": job["passages"],
        "models": [],
    }
    val_text, rng = held_out["val"], random.Random(0)
    excerpts = []
    for _ in range(job["passages"]):
        offset = rng.randrange(len(val_text) - COPY_PASSAGE_LENGTH)
        excerpts.append(val_text[offset : offset + COPY_PASSAGE_LENGTH])
    baseline = {"label": "real: val plays", "unit": "char", "order": None, "smoothing": None}
    result["models"].append(baseline | _copy_figures(guard, excerpts, None, 0.0))

    for unit, order, smoothing, temperature in job["models"]:
        config = NGramConfig(unit=unit, order=order, smoothing=smoothing)
        model = NGramModel.train(train_text, config)
        passages, started = [], time.perf_counter()
        for seed in range(job["passages"]):
            params = SamplingParams(length=COPY_PASSAGE_LENGTH, temperature=temperature, seed=seed)
            passages.append(model.sample(params)[0].text)
        sampling_seconds = time.perf_counter() - started
        label = f"{unit} {order}-gram {smoothing}"
        row = {"label": label, "unit": unit, "order": order, "smoothing": smoothing}
        result["models"].append(row | _copy_figures(guard, passages, temperature, sampling_seconds))
    return result


def _copy_figures(guard, passages: list[str], temperature, sampling_seconds: float) -> dict:
    import numpy as np

    lengths, milliseconds = [], []
    for text in passages:
        started = time.perf_counter()
        span = guard.longest_copied_span(text)
        milliseconds.append((time.perf_counter() - started) * 1000)
        lengths.append(span.length)
    p50, p95 = np.percentile(milliseconds, [50, 95])
    return {
        "temperature": temperature,
        "copy_median_chars": float(np.median(lengths)),
        "copy_max_chars": int(max(lengths)),
        "copy_lengths": lengths,
        "passages_with_copy_of_40_or_more": int(sum(n >= 40 for n in lengths)),
        "guard_p50_ms": round(float(p50), 3),
        "guard_p95_ms": round(float(p95), 3),
        "guard_max_ms": round(float(max(milliseconds)), 3),
        "sampling_seconds_per_passage": round(sampling_seconds / len(passages), 3),
    }


def in_fresh_process(function, job: dict):
    """Run function(job) in a new spawned interpreter and wait for it (never two at a time)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, job).result()


# -- the run ------------------------------------------------------------------------------------
def plays_jobs(quick: bool) -> list[dict]:
    if quick:
        configs = [
            ("char", 5, "kn"),
            ("char", 7, "kn"),
            ("char", 7, "wb"),
            ("char", 7, "addk"),
            ("char", 7, "stupid"),
            ("word", 3, "kn"),
            ("word", 3, "wb"),
        ]
    else:
        configs = [("char", o, s) for o in CHAR_ORDERS for s in SMOOTHINGS]
        configs += [("word", o, s) for o in WORD_ORDERS for s in SMOOTHINGS]
        configs += [(unit, order, "mle") for unit, order in MLE_CONFIGS]
        configs += list(EXTRA_CONFIGS)
        configs.sort(key=lambda c: (c[0] != "char", c[1]))
    return [_job("plays", None, *config) for config in configs]


def tiny_jobs(quick: bool) -> list[dict]:
    orders = (6,) if quick else TINY_ORDERS
    return [_job("tinyshakespeare", str(TINY_SHAKESPEARE), "char", o, "kn") for o in orders]


def _job(corpus: str, text_file: str | None, unit: str, order: int, smoothing: str) -> dict:
    name = f"{unit}-{order}gram-{smoothing}"
    return {
        "corpus": corpus,
        "text_file": text_file,
        "unit": unit,
        "order": order,
        "smoothing": smoothing,
        "name": name,
    }


def fmt_bpc(row: dict, split: str) -> str:
    value = row.get(f"{split}_bits_per_char")
    if value is not None:
        return f"{value:.4f}"
    note = row.get(f"{split}_note", "-")
    return "inf" if note.startswith("inf") else note  # the p=0 count follows the row


TABLE = (
    ("unit", 5, "<"),
    ("order", 5, ">"),
    ("smoothing", 9, "<"),
    ("val bpc", 18, ">"),
    ("test bpc", 18, ">"),
    ("build s", 8, ">"),
    ("peak MB", 8, ">"),
    ("ckpt MB", 8, ">"),
    ("sample ch/s", 11, ">"),
)


def table_header() -> str:
    return "  ".join(f"{name:{align}{width}}" for name, width, align in TABLE)


def table_row(row: dict) -> str:
    cells = [
        row["unit"],
        row["order"],
        row["smoothing"],
        fmt_bpc(row, "val"),
        fmt_bpc(row, "test") if "test_bits_per_char" in row else "-",
        f"{row['build_seconds']:.2f}",
        f"{row['build_peak_mb']:.0f}",
        f"{row['checkpoint_mb']:.2f}",
        f"{row['sample_chars_per_second']:.0f}",
    ]
    lines = []
    for (_, width, align), cell in zip(TABLE, cells, strict=True):
        lines.append(f"{str(cell):{align}{width}}")
    line = "  ".join(lines)
    notes = [row[k] for k in ("val_note",) if k in row and row[k] != "n/a (unnormalised)"]
    return line + (f"   [{notes[0]}]" if notes else "")


def best_on_val(rows: list[dict], unit: str) -> dict | None:
    scored = [r for r in rows if r["unit"] == unit and r.get("val_bits_per_char") is not None]
    return min(scored, key=lambda r: r["val_bits_per_char"]) if scored else None


def shipped_figures() -> list[dict]:
    """What the shipped checkpoints say about themselves (header only)."""
    from app.lm.checkpoints import CheckpointError, read_header

    found = []
    for name in SHIPPED:
        path = REPO_ROOT / "models" / f"{name}.safetensors"
        try:
            info, _ = read_header(path)
        except CheckpointError as error:
            found.append({"name": name, "problem": str(error)})
            continue
        found.append(
            {
                "name": name,
                "unit": info.unit,
                **{k: info.parameters.get(k) for k in ("order", "smoothing")},
                **info.figures,
                "file_mb": round(info.file_bytes / 1e6, 3),
            }
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--quick", action="store_true", help="a small subset (about a minute)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"JSON results file (default: {DEFAULT_OUT.relative_to(REPO_ROOT)}, "
        f"or {QUICK_OUT.relative_to(REPO_ROOT)} with --quick)",
    )
    parser.add_argument(
        "--passages",
        type=int,
        default=None,
        help="copy-guard passages per model (default: 40, or 8 with --quick)",
    )
    args = parser.parse_args()
    passages = args.passages or (8 if args.quick else 40)
    out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    run_started = time.perf_counter()

    print("Shakespeare plays: train on the training plays, score the validation and test plays")
    print("(one fresh process per model; peak MB = extra peak RSS of the build)\n")
    print(table_header(), flush=True)
    plays_rows = []
    for job in plays_jobs(args.quick):
        row = in_fresh_process(measure_config, job)
        plays_rows.append(row)
        print(table_row(row), flush=True)

    print("\ntiny-shakespeare: first 90% train, last 10% val (characters)")
    tiny: dict[str, Any] = {"path": str(TINY_SHAKESPEARE), "rows": []}
    if TINY_SHAKESPEARE.exists():
        print(f"{'model':<14}{'val bits/char':>14}{'val nats/char':>15}{'build s':>9}")
        for job in tiny_jobs(args.quick):
            row = in_fresh_process(measure_config, job)
            tiny["rows"].append(row)
            print(
                f"{'KN char ' + str(row['order']) + '-gram':<14}"
                f"{row['val_bits_per_char']:>14.4f}{row['val_nats_per_char']:>15.4f}"
                f"{row['build_seconds']:>9.2f}",
                flush=True,
            )
        print(
            f"anchors: interpolated KN char 6-gram ~{ANCHOR_KN6_BITS} bits = "
            f"~{ANCHOR_KN6_NATS} nats; nanoGPT transformer {ANCHOR_NANOGPT_NATS} nats "
            f"= {ANCHOR_NANOGPT_NATS / math.log(2):.4f} bits"
        )
    else:
        tiny["skipped"] = f"{TINY_SHAKESPEARE} not found"
        print(f"skipping tiny-shakespeare: {TINY_SHAKESPEARE} not found")

    print(
        f"\nCopy guard: {passages} passages of {COPY_PASSAGE_LENGTH} chars per model, "
        "longest span found verbatim in the training plays"
    )
    copy_models = COPY_MODELS[1:2] + COPY_MODELS[-1:] if args.quick else COPY_MODELS
    copying = in_fresh_process(measure_copying, {"passages": passages, "models": copy_models})
    print(
        f"suffix array over {copying['training_chars']:,} chars built in "
        f"{copying['guard_build_seconds']:.2f} s"
    )
    print(
        f"{'model':<20}{'temp':>5}{'copy median':>12}{'copy max':>9}{'>=40':>6}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
    )
    for m in copying["models"]:
        temperature = "-" if m["temperature"] is None else m["temperature"]
        print(
            f"{m['label']:<20}{temperature:>5}"
            f"{m['copy_median_chars']:>12.0f}{m['copy_max_chars']:>9}"
            f"{m['passages_with_copy_of_40_or_more']:>6}{m['guard_p50_ms']:>8.2f}"
            f"{m['guard_p95_ms']:>8.2f}{m['guard_max_ms']:>8.2f}"
        )

    best = {unit: best_on_val(plays_rows, unit) for unit in ("char", "word")}
    shipped = shipped_figures()
    print("\nBest on validation (normalised models only):")
    for unit, row in best.items():
        if row:
            print(
                f"  {unit}: order {row['order']} {row['smoothing']}: val "
                f"{row['val_bits_per_char']:.4f}, test {row.get('test_bits_per_char', '-')}"
            )
    for s in shipped:
        if "problem" in s:
            print(f"  shipped {s['name']}: {s['problem']}")
        else:
            print(
                f"  shipped {s['name']}: val {s.get('val_bits_per_char')}, "
                f"test {s.get('test_bits_per_char')}, {s['file_mb']} MB"
            )

    total = time.perf_counter() - run_started
    print(f"\ntotal run time {total:.0f} s")
    results = {
        "meta": {
            "command": " ".join([".venv/bin/python", "benchmarks/ngram.py", *sys.argv[1:]]),
            "quick": args.quick,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "total_seconds": round(total, 1),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
            "sample_length": SAMPLE_LENGTH,
            "sample_repeats": SAMPLE_REPEATS,
            "memory_measure": "build_peak_mb = ru_maxrss after NGramModel.train() minus ru_maxrss "
            "after loading the corpus, in a fresh spawned process per model",
        },
        "plays": plays_rows,
        "best_on_val": best,
        "shipped": shipped,
        "tinyshakespeare": tiny,
        "anchors": {
            "tiny_kn_char6_bits_per_char": ANCHOR_KN6_BITS,
            "tiny_kn_char6_nats_per_char": ANCHOR_KN6_NATS,
            "tiny_nanogpt_nats_per_char": ANCHOR_NANOGPT_NATS,
            "plays_kn_char7_test_bits_per_char": ANCHOR_PLAYS_KN7_TEST_BITS,
        },
        "copy_guard": copying,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
