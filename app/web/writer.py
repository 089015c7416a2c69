"""The game's round and guess transactions run on one thread per process.

Each is a short write transaction and SQLite admits one writer at a time, so the work is serial
anyway (app.db.transaction takes a per-process lock). Handed to FastAPI's threadpool, the
requests of 32 simultaneous players occupy up to 32 threads that convoy on that lock and on the
GIL; queued for one thread they run back to back, and the event loop stays free for the network.
In benchmarks/serve.py that gave about 40 % more requests per second and a p99 cut by 40 %
(docs/serve-benchmark.md). Nothing slow may run here: generation goes to the threadpool.
"""

import asyncio
import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Writer:
    """One thread that runs the queued transactions in turn and hands their outcomes back in
    batches: one wake-up of an event loop for all that finished since its last one, not one
    each. ThreadPoolExecutor's run_in_executor chains two futures and writes to the loop's
    self-pipe for every result: ~23 µs of CPU per hop with 32 hops queued, against ~1 µs
    batched (uvloop, a 5 µs job); in process, 32 players' rounds and guesses took less CPU
    per request in 4 of 5 alternating pairs of runs (docs/serve-benchmark.md). Started on
    first use; a daemon thread, idle at exit (uvicorn finishes the requests in flight before it
    stops). Any number of event loops may use it (the tests run several)."""

    def __init__(self, name: str):
        self.name = name
        self._jobs: deque[tuple[Callable[[], Any], asyncio.Future]] = deque()
        self._has_jobs = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        # per event loop, the outcomes not yet handed over; a loop is a key from its first such
        # outcome until its hand-over runs (which was scheduled when the key was added)
        self._finished: dict[asyncio.AbstractEventLoop, list] = {}
        self._finished_lock = threading.Lock()

    def submit(self, job: Callable[[], Any]) -> asyncio.Future:
        """Queue job() (on the running loop's side); its result or exception in the future."""
        future = asyncio.get_running_loop().create_future()
        with self._has_jobs:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._jobs.append((job, future))
            self._has_jobs.notify()
        return future

    def _run(self) -> None:
        while True:
            with self._has_jobs:
                while not self._jobs:
                    self._has_jobs.wait()
                job, future = self._jobs.popleft()
            if future.cancelled():  # the request went away while queued: as run_in_executor
                continue
            try:
                outcome = (job(), None)
            except BaseException as error:  # noqa: BLE001 - the awaiting request raises it
                outcome = (None, error)
            self._finish(future, outcome)

    def _finish(self, future: asyncio.Future, outcome: tuple[Any, BaseException | None]) -> None:
        loop = future.get_loop()
        with self._finished_lock:
            for closed in [other for other in self._finished if other.is_closed()]:
                del self._finished[closed]  # closed before its hand-over ran: never will
            waiting = self._finished.get(loop)
            first = waiting is None
            if first:
                waiting = self._finished[loop] = []
            waiting.append((future, outcome))
        if first:  # the hand-over below takes every outcome queued for this loop until it runs
            try:
                loop.call_soon_threadsafe(self._hand_over, loop)
            except RuntimeError:  # the loop is closed: nobody waits for these any more
                with self._finished_lock:
                    self._finished.pop(loop, None)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._finished_lock:
            finished = self._finished.pop(loop, [])
        for future, (result, error) in finished:
            if future.cancelled():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


_WRITER = Writer("realornn-writer")


class InFlight:
    """How many transactions are queued for or running on the writer: how busy the players
    keep this process. Counted on the event loop's thread only, so no lock. When `shared` is
    set (two doubles in shared memory, multiprocessing's RawArray), the count and the
    time.monotonic() of its last change go there, where the pool's refiller process reads them
    to stay out of the players' way (app/game/refill.py)."""

    def __init__(self) -> None:
        self.count = 0
        self.shared = None

    def share(self, shared) -> None:
        """Report the count into `shared` from now on (a RefillProcess's players_busy)."""
        self.shared = shared

    def unshare(self, shared) -> None:
        """Stop reporting into `shared`, unless another app has shared its own since."""
        if self.shared is shared:
            self.shared = None

    def change(self, by: int) -> None:
        self.count += by
        if self.shared is not None:
            self.shared[0] = self.count
            self.shared[1] = time.monotonic()  # CLOCK_MONOTONIC: the same in every process


IN_FLIGHT = InFlight()


async def run_in_writer(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args, **kwargs) on the writer thread; its result or its exception."""
    IN_FLIGHT.change(+1)
    try:
        return await _WRITER.submit(functools.partial(fn, *args, **kwargs))
    finally:
        IN_FLIGHT.change(-1)
