"""The passage pool's refill, in a process of its own at the lowest CPU priority.

Generating passages is CPU-bound, and an n-gram's sampling loop is Python: in a thread of the
server it takes the GIL from the very requests the pool is there to serve (a fifth of the
server's GIL time under load, measured with py-spy). In a process of its own, niced to 19, the
operating system gives it only the CPU the requests leave idle, and it holds no GIL of theirs.

The refiller only generates: it hands each passage to the server process over a queue, and a
thread there stores it under the server's own write lock. Were the niced child to write to
SQLite itself, the scheduler could put it aside while it held the database's write lock (nice 19
gets little CPU on a busy machine), and the server's writer would sleep in SQLite's busy handler
all that while: a priority inversion. Only the server's processes write.

Players first, in time as well as in CPU: before each passage the refiller waits until the
server's writer has had no round or guess in flight for QUIET_SECONDS. The server reports that
count into `RefillProcess.players_busy`, two doubles in shared memory (the web layer connects
its writer to them; this module only reads them). On a small machine a niced process still
takes every idle moment between requests, and its work shows in the requests' tail: under
benchmarks/serve.py it took a third of a core and the game's p99 rose. It waits
MAX_DEFER_SECONDS at most, so under sustained load the pool still trickles (rounds meanwhile
reuse passages from the bank, see app/game/pool.py), and not at all for a key with no passage
in the bank yet, for which a round would have to generate one on the spot. (With `--workers N`
the refiller that works sees the count of the worker that started it only.)

One refiller per data folder. With `--workers N` every worker's lifespan starts one; an exclusive
lock on `DATA_DIR/pool.lock` lets one of them work while the others wait for the lock (they load
no model while they wait), so a dying refiller is replaced and N processes never top up the same
keys at once. On PostgreSQL, replicas on other hosts share the bank but no data folder: there the
refiller that holds the lock file also waits for a PostgreSQL advisory lock (app/db/notify.py),
so one refiller works across every host. A refiller stops when told to, or when the worker that
started it is gone.
"""

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db.notify import is_postgresql, try_advisory_lock

try:
    import fcntl
except ImportError:  # Windows: no flock and no nice; the server refills in a thread instead
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("realornn.pool")

# Where a refiller process can run: it needs flock (one per data folder) and nice.
SUPPORTED = fcntl is not None and hasattr(os, "nice")

LOCK_POLL_SECONDS = 1.0
QUEUE_SIZE = 16  # passages made but not yet stored; the child waits when it is full
QUEUE_POLL_SECONDS = 0.5
IDLE_SECONDS = 2.0  # between rounds of checks when every key is full
QUIET_SECONDS = 0.2  # the writer idle this long before a passage is made...
QUIET_POLL_SECONDS = 0.02
MAX_DEFER_SECONDS = 2.0  # ...or this long waited for it
STOP_TIMEOUT_SECONDS = 10.0


class RefillProcess:
    """Starts and stops the refiller child of one server process, and stores what it makes."""

    def __init__(self, settings: Settings):
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._stop = context.Event()
        self._passages: Queue = context.Queue(maxsize=QUEUE_SIZE)
        # The players' rounds and guesses in flight, and the time.monotonic() of that count's
        # last change: whoever runs them writes here (app/web/writer.py's InFlight.share).
        self.players_busy = context.RawArray("d", 2)
        self._process = context.Process(
            target=refill_main,
            args=(settings, self._stop, os.getpid(), self._passages, self.players_busy),
            name="realornn-pool-refill",
        )
        self._storing: threading.Thread | None = None

    def start(self, store: Callable[[dict[str, Any]], object]) -> None:
        """Start the child; `store(values)` puts each passage it makes in the bank."""
        self._process.start()
        self._storing = threading.Thread(
            target=self._store_forever, args=(store,), name="passage-store", daemon=True
        )
        self._storing.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._process.join(STOP_TIMEOUT_SECONDS)  # it stops between two passages
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_TIMEOUT_SECONDS)
        if self._storing is not None:
            self._storing.join(STOP_TIMEOUT_SECONDS)  # it stores what is left, then ends

    def _store_forever(self, store: Callable[[dict[str, Any]], object]) -> None:
        while True:
            try:
                values = self._passages.get(timeout=QUEUE_POLL_SECONDS)
            except queue.Empty:
                if self._stop.is_set() and not self._process.is_alive():
                    return
                continue
            try:
                store(values)
            except Exception:  # one bad row must not end the refill
                log.exception("passage pool: storing a passage failed")


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / "pool.lock"


def wait_for_lock(path: Path, stop: Event, parent_pid: int):
    """The open lock file once this process holds its exclusive lock; None if told to stop
    first. The lock goes with the process: a refiller that dies releases it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")
    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            stop.wait(LOCK_POLL_SECONDS)
    handle.close()
    return None


def wait_for_database_lock(url: str, stop: Event, parent_pid: int):
    """On PostgreSQL, replicas on other hosts share no lock file: the refill lock there is an
    advisory lock, held by a connection of this process (a context manager that closes it, and
    so releases the lock); None if told to stop first. On SQLite: a no-op context."""
    if not is_postgresql(url):
        return contextlib.nullcontext()
    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            held = try_advisory_lock(url)
        except Exception as error:  # the database restarting: try again
            log.warning("passage pool: cannot ask for the refill lock: %s", error)
            held = None
        if held is not None:
            return held
        stop.wait(LOCK_POLL_SECONDS)
    return None


def wait_for_quiet(in_flight, stop: Event, quiet: float = QUIET_SECONDS) -> float:
    """Return once the server's writer has had no round or guess in flight for `quiet` seconds
    (`in_flight`: [count, time.monotonic() of its last change]), or after MAX_DEFER_SECONDS,
    or when told to stop. The seconds waited."""
    started = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if in_flight[0] == 0 and now - in_flight[1] >= quiet:
            break
        if now - started >= MAX_DEFER_SECONDS:
            break
        time.sleep(QUIET_POLL_SECONDS)
    return time.monotonic() - started


def hand_over(pool, key, in_bank: int, passages: Queue, stop: Event, in_flight) -> bool:
    """Make one passage for `key` once the players leave room for it, and put it on
    `passages`; False when the model made none or we are told to stop first."""
    # A key with no passage at all would make rounds generate on the spot: no waiting then
    if in_flight is not None and in_bank > 0:
        wait_for_quiet(in_flight, stop)
    values = pool.generate(key)
    if values is None:
        return False
    while not stop.is_set():  # a full queue: the parent is storing, or stopping
        try:
            passages.put(values, timeout=QUEUE_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def refill_main(
    settings: Settings, stop: Event, parent_pid: int, passages: Queue, in_flight=None
) -> None:
    """The child's whole life: lowest priority, the lock, the models, then refill until told.
    Each passage goes to `passages` for the parent to store; before each, it waits for the
    server's writer to be quiet (`in_flight`, shared memory; None: no waiting)."""
    # our own news at INFO, as the server logs it; libraries (alembic's import) only warnings
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(message)s")
    logging.getLogger("realornn").setLevel(logging.INFO)
    os.nice(19)  # the requests first: this process gets only the CPU they leave
    lock = wait_for_lock(lock_path(settings), stop, parent_pid)
    if lock is None:
        return
    with lock:
        database_lock = wait_for_database_lock(settings.resolved_database_url(), stop, parent_pid)
        if database_lock is None:
            return
        with database_lock:
            refill_with_lock(settings, stop, parent_pid, passages, in_flight)


def refill_with_lock(settings: Settings, stop: Event, parent_pid: int, passages: Queue, in_flight):
    """The refill itself, once this process holds the refill lock(s)."""
    pool = build_refill_pool(settings)
    if pool is None:
        return
    log.info("passage pool: refilling in process %d (nice 19)", os.getpid())

    def produce(key, in_bank: int) -> bool:
        return hand_over(pool, key, in_bank, passages, stop, in_flight)

    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            made = pool.refill_once(should_stop=stop.is_set, produce=produce)
        except Exception:  # a bad model must not end the refill for the others
            log.exception("passage pool: refill failed")
            made = 0
        if not made:
            stop.wait(IDLE_SECONDS)


def build_refill_pool(settings: Settings):
    """The same pool as the server's (the same models, keys and heatmap), on its own engine."""
    import torch

    from app.corpus import load_corpus
    from app.db import make_engine, session_factory
    from app.game.pool import make_pool
    from app.game.registry import ModelRegistry

    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    started = time.perf_counter()
    models = ModelRegistry.load(settings)
    if not models:
        log.error("passage pool: no model loaded from %s; not refilling", settings.models_dir)
        return None
    engine = make_engine(settings.resolved_database_url(), settings.sqlite_synchronous)
    sessions = session_factory(engine)
    pool = make_pool(settings, models, sessions, load_corpus(), pace=False)
    log.info("passage pool: refiller ready in %.1f s", time.perf_counter() - started)
    return pool
