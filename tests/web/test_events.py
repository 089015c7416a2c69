"""The room event hub: every listener gets the state now and after each change; one state
computation per change, however many listeners."""

import asyncio

from app.web.events import RoomEvents


def test_listeners_share_one_state_per_change():
    version = {"ABC": 1}
    computed = []

    def read_state(code):
        computed.append(version[code])
        return {"version": version[code], "code": code}

    async def scenario():
        hub = RoomEvents(lambda code: version.get(code), read_state)
        received = {i: [] for i in range(5)}

        async def listen(i):
            async for payload in hub.subscribe("ABC"):
                if payload is not None:
                    received[i].append(payload)
                if len(received[i]) == 3:
                    return

        async def all_received(count: int) -> None:
            while any(len(payloads) < count for payloads in received.values()):
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(listen(i)) for i in range(5)]
        for seen, new_version in ((1, 2), (2, 3)):
            # each change only once every listener has the state before it, however slow the
            # machine: otherwise a late listener would start at the newer state
            await asyncio.wait_for(all_received(seen), timeout=10)
            version["ABC"] = new_version
            hub.notify("ABC")
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        return received

    received = asyncio.run(scenario())
    for payloads in received.values():
        assert [p.count('"version": ') for p in payloads] == [1, 1, 1]
        assert ['"version": 1' in payloads[0], '"version": 3' in payloads[2]] == [True, True]
    assert computed == [1, 2, 3]  # not 5 listeners x 3


def test_a_change_from_another_process_is_seen_within_the_poll():
    version = {"ABC": 1}

    async def scenario():
        hub = RoomEvents(lambda c: version[c], lambda c: {"version": version[c]})
        seen = []
        loop = asyncio.get_running_loop()
        start = loop.time()
        async for payload in hub.subscribe("ABC"):
            if payload is None:
                continue
            seen.append(loop.time() - start)
            if len(seen) == 1:
                version["ABC"] = 2  # no notify: as if another worker changed it
            else:
                return seen

    seen = asyncio.run(scenario())
    assert seen[1] < 1.5
