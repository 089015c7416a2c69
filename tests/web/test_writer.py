"""The writer thread: the game's transactions run one at a time on one thread, off the loop."""

import asyncio
import threading
import time

import pytest

from app.web.writer import run_in_writer


def test_work_runs_on_one_thread_other_than_the_loops_one_at_a_time():
    inside, most_inside, threads = 0, 0, set()
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal inside, most_inside
        with lock:
            inside += 1
            most_inside = max(most_inside, inside)
        threads.add(threading.get_ident())
        time.sleep(0.005)
        with lock:
            inside -= 1
        return i * i

    async def main() -> list[int]:
        return await asyncio.gather(*(run_in_writer(work, i) for i in range(20)))

    assert asyncio.run(main()) == [i * i for i in range(20)]
    assert most_inside == 1  # serial
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_an_exception_reaches_the_awaiting_request():
    def refuse() -> None:
        raise LookupError("no round 'x'")

    with pytest.raises(LookupError, match="no round"):
        asyncio.run(run_in_writer(refuse))
