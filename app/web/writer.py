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
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="realornn-writer")


class InFlight:
    """How many transactions are queued for or running on the writer: how busy the players
    keep this process. Counted on the event loop's thread only, so no lock. When `shared` is
    set (two doubles in shared memory, multiprocessing's RawArray), the count and the
    time.monotonic() of its last change go there, where the pool's refiller process reads them
    to stay out of the players' way (app/web/refill.py)."""

    def __init__(self) -> None:
        self.count = 0
        self.shared = None

    def change(self, by: int) -> None:
        self.count += by
        if self.shared is not None:
            self.shared[0] = self.count
            self.shared[1] = time.monotonic()  # CLOCK_MONOTONIC: the same in every process


IN_FLIGHT = InFlight()


async def run_in_writer(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args, **kwargs) on the writer thread; its result or its exception."""
    loop = asyncio.get_running_loop()
    IN_FLIGHT.change(+1)
    try:
        return await loop.run_in_executor(_WRITER, functools.partial(fn, *args, **kwargs))
    finally:
        IN_FLIGHT.change(-1)
