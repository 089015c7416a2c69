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


def test_in_flight_counts_the_queued_and_running_work_and_shares_it():
    from multiprocessing import RawArray

    from app.web.writer import IN_FLIGHT

    shared = RawArray("d", 2)
    go, seen = threading.Event(), []
    IN_FLIGHT.shared = shared
    try:

        def work() -> None:
            go.wait(5)  # the first holds the writer until all three are queued
            seen.append((IN_FLIGHT.count, shared[0]))

        async def main() -> int:
            tasks = [asyncio.ensure_future(run_in_writer(work)) for _ in range(3)]
            while IN_FLIGHT.count < 3:
                await asyncio.sleep(0.001)
            queued = int(shared[0])
            go.set()
            await asyncio.gather(*tasks)
            return queued

        before = time.monotonic()
        assert asyncio.run(main()) == 3
    finally:
        IN_FLIGHT.shared = None
    assert seen[0] == (3, 3.0) and len(seen) == 3  # (a finished one counts until the loop
    # has its result, so the later ones may still see 3)
    assert IN_FLIGHT.count == 0 and shared[0] == 0.0
    assert before <= shared[1] <= time.monotonic()  # when the count last changed


def test_work_whose_request_went_away_while_queued_does_not_run():
    go, ran = threading.Event(), []

    def hold() -> None:
        go.wait(5)
        ran.append("hold")

    def later() -> None:
        ran.append("later")

    async def main() -> None:
        first = asyncio.ensure_future(run_in_writer(hold))
        second = asyncio.ensure_future(run_in_writer(later))
        await asyncio.sleep(0.01)
        second.cancel()  # as when the player's connection closes
        go.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        assert await run_in_writer(lambda: "after") == "after"

    asyncio.run(main())
    assert ran == ["hold"]


def test_several_event_loops_each_get_their_own_results():
    results: dict[int, list[int]] = {}

    def play(offset: int) -> None:
        async def main() -> list[int]:
            return await asyncio.gather(*(run_in_writer(lambda i=i: offset + i) for i in range(50)))

        results[offset] = asyncio.run(main())

    threads = [threading.Thread(target=play, args=(offset,)) for offset in (0, 1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == {offset: [offset + i for i in range(50)] for offset in (0, 1000, 2000)}


def test_a_result_for_a_closed_loop_does_not_stop_the_writer():
    go, finished = threading.Event(), threading.Event()

    def slow() -> str:
        go.wait(5)
        finished.set()
        return "too late"

    async def give_up() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(run_in_writer(slow), 0.05)

    asyncio.run(give_up())  # its loop is closed now, with slow() still running
    go.set()
    assert finished.wait(5)
    assert asyncio.run(asyncio.wait_for(run_in_writer(lambda: 42), 5)) == 42
