"""How fast is CopyGuard? Suffix-array build time and memory; query latency for 600-char passages.

Run from the repository root:  .venv/bin/python benchmarks/copyguard.py

Two kinds of query bracket what generated text looks like:
  - "verbatim slice": 600 characters cut straight from the training text, the longest possible copy;
  - "shuffled words": training words in random order, so only short copies (a word or two) occur,
    and nearly every position of the passage costs its own lookup.
"""

import argparse
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # so `app` imports when run as a plain script

from app.lm.copyguard import CopyGuard  # noqa: E402

TINY_SHAKESPEARE = REPO_ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
PASSAGE_LENGTH = 600


def verbatim_slices(text: str, count: int, rng: random.Random) -> list[str]:
    starts = (rng.randrange(len(text) - PASSAGE_LENGTH) for _ in range(count))
    return [text[start : start + PASSAGE_LENGTH] for start in starts]


def shuffled_word_passages(text: str, count: int, rng: random.Random) -> list[str]:
    words = text.split()
    passages = []
    for _ in range(count):
        passage = " ".join(rng.choice(words) for _ in range(PASSAGE_LENGTH // 3))
        passages.append(passage[:PASSAGE_LENGTH])
    return passages


def load_training_texts() -> list[tuple[str, str]]:
    """(name, text) for each training text we can find; say why when one is missing."""
    texts = []
    if TINY_SHAKESPEARE.exists():
        texts.append(("tinyshakespeare.txt", TINY_SHAKESPEARE.read_text(encoding="utf-8")))
    else:
        print(f"skipping tinyshakespeare: {TINY_SHAKESPEARE} not found")
    try:
        from app.corpus import load_corpus

        texts.append(("corpus train split", load_corpus().text("train")))
    except Exception as error:  # the corpus package may be mid-edit; benchmark what we have
        print(f"skipping the corpus train split: {type(error).__name__}: {error}")
    return texts


def milliseconds_per_query(guard: CopyGuard, passages: list[str]) -> tuple[np.ndarray, list[int]]:
    latencies, copy_lengths = [], []
    for passage in passages:
        started = time.perf_counter()
        span = guard.longest_copied_span(passage)
        latencies.append((time.perf_counter() - started) * 1000)
        copy_lengths.append(span.length)
    return np.array(latencies), copy_lengths


def peak_megabytes_while(build: Callable[[], object]) -> float:
    """Peak traced allocation during build() (numpy and ctypes buffers included), in MB."""
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200, help="passages per kind (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for passages (default 0)")
    args = parser.parse_args()

    rows = []
    for name, text in load_training_texts():
        started = time.perf_counter()
        guard = CopyGuard(text)
        build_seconds = time.perf_counter() - started
        peak_mb = peak_megabytes_while(lambda text=text: CopyGuard(text))
        print(
            f"{name}: {len(text):,} chars, {len(set(text))} distinct; "
            f"build {build_seconds:.2f} s; suffix array {guard.suffix_array.nbytes / 1e6:.1f} MB "
            f"({guard.suffix_array.dtype}); text {sys.getsizeof(text) / 1e6:.1f} MB; "
            f"peak while building {peak_mb:.1f} MB"
        )
        rng = random.Random(args.seed)
        for kind, passages in [
            ("verbatim slice", verbatim_slices(text, args.queries, rng)),
            ("shuffled words", shuffled_word_passages(text, args.queries, rng)),
        ]:
            latencies, copy_lengths = milliseconds_per_query(guard, passages)
            p50, p95 = np.percentile(latencies, [50, 95])
            rows.append((name, kind, p50, p95, latencies.max(), int(np.median(copy_lengths))))

    print()
    print(f"{'training text':<22}{'queries':<16}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'copy':>7}")
    for name, kind, p50, p95, slowest, median_copy in rows:
        print(f"{name:<22}{kind:<16}{p50:>8.2f}{p95:>8.2f}{slowest:>8.2f}{median_copy:>7}")
    print(f"(copy = median length of the longest copied span, of {PASSAGE_LENGTH} characters)")


if __name__ == "__main__":
    main()
