"""Live room state for Server-Sent Events.

One watcher per room with listeners: it wakes when this process changes the room (a vote, a
start, a reveal: `notify`), when another replica did on PostgreSQL (its NOTIFY, heard by
app/db/notify.py's listener, calls `notify` here too), or once a second (another worker process
on SQLite may have changed it), reads
the room's version, and only when it moved computes the public state once and hands the same
JSON to every listener. So 200 phones cost one state query per change, not 200.
"""

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

POLL_SECONDS = 1.0  # the most a change made by another worker process waits to be seen


@dataclass
class _Channel:
    version: int = -1
    payload: str | None = None  # the public state as JSON
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    listeners: int = 0
    watcher: asyncio.Task | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one state computation at a time


class RoomEvents:
    def __init__(
        self,
        read_version: Callable[[str], int | None],
        read_state: Callable[[str], dict | None],
    ):
        # both blocking (database): run in worker threads
        self.read_version, self.read_state = read_version, read_state
        self.channels: dict[str, _Channel] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def notify(self, code: str) -> None:
        """From any thread: the room changed, look now rather than at the next poll."""
        channel, loop = self.channels.get(code), self.loop
        if channel is not None and loop is not None:
            loop.call_soon_threadsafe(channel.wake.set)

    async def _refresh(self, code: str, channel: _Channel) -> None:
        async with channel.lock:
            version = await asyncio.to_thread(self.read_version, code)
            if version is None or version == channel.version:
                return
            state = await asyncio.to_thread(self.read_state, code)
            if state is None:
                return
            channel.version, channel.payload = state["version"], json.dumps(state)
            channel.changed.set()  # wake every listener, then arm a fresh event for the next one
            channel.changed = asyncio.Event()

    async def _watch(self, code: str, channel: _Channel) -> None:
        while channel.listeners > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(channel.wake.wait(), timeout=POLL_SECONDS)
            channel.wake.clear()
            await self._refresh(code, channel)
        self.channels.pop(code, None)

    async def subscribe(self, code: str):
        """Yield the room's state as JSON now and after every change, until the caller stops."""
        self.loop = asyncio.get_running_loop()
        channel = self.channels.setdefault(code, _Channel())
        channel.listeners += 1
        try:
            if channel.payload is None:
                await self._refresh(code, channel)
            if channel.watcher is None or channel.watcher.done():
                channel.watcher = asyncio.create_task(self._watch(code, channel))
            sent = -1
            while True:
                if channel.payload is not None and channel.version != sent:
                    sent = channel.version
                    yield channel.payload
                else:
                    changed = channel.changed
                    try:
                        await asyncio.wait_for(changed.wait(), timeout=15)
                    except TimeoutError:
                        yield None  # a heartbeat: keeps proxies and phones from hanging up
        finally:
            channel.listeners -= 1
