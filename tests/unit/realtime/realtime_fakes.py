"""Fakes for the hub tests: a Source backed by lists, viewers that record what they get."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

from realtime.hub import Frame


class FakeSource:
    """A 'database' of per-topic events; messages are b"topic|seq"."""

    def __init__(self) -> None:
        self.events: dict[str, int] = defaultdict(int)  # topic -> latest committed seq
        self.increment_calls: list[tuple[str, int, bytes | None]] = []
        self.snapshot_calls: list[str] = []
        self.snapshot_gate: asyncio.Event | None = None  # when set, snapshots wait for it
        self.increment_gates: dict[str, asyncio.Event] = {}
        self.delay: Callable[[], float] | None = None
        self.fail_next_increments = 0
        self.lag_next_increments = 0  # answer as a read replica that is behind: nothing new
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)

    def commit(self, topic: str) -> bytes:
        self.events[topic] += 1
        return f"{topic}|{self.events[topic]}".encode()

    def seq_of(self, topic: str, message: bytes) -> int:
        name, _, seq = message.partition(b"|")
        assert name.decode() == topic
        return int(seq)

    async def snapshot(self, topic: str) -> Frame:
        self.snapshot_calls.append(topic)
        if self.snapshot_gate is not None:
            await self.snapshot_gate.wait()
        seq = self.events[topic]
        return Frame(seq, f"snapshot {topic} @{seq}".encode())

    async def increments(self, topic: str, after_seq: int, message: bytes | None) -> list[Frame]:
        self.increment_calls.append((topic, after_seq, message))
        self.in_flight[topic] += 1
        self.max_in_flight[topic] = max(self.max_in_flight[topic], self.in_flight[topic])
        try:
            gate = self.increment_gates.get(topic)
            if gate is not None:
                await gate.wait()
            if self.delay is not None:
                await asyncio.sleep(self.delay())
            if self.fail_next_increments:
                self.fail_next_increments -= 1
                raise RuntimeError("database hiccup")
            if self.lag_next_increments:
                self.lag_next_increments -= 1
                return []
            if message is not None:  # render just the event the message announces
                seq = self.seq_of(topic, message)
                return [Frame(seq, f"{topic} #{seq}".encode())]
            latest = self.events[topic]  # repair: everything after after_seq
            return [Frame(s, f"{topic} #{s}".encode()) for s in range(after_seq + 1, latest + 1)]
        finally:
            self.in_flight[topic] -= 1


class FakeViewer:
    """Records frames and close codes; can be made to stall or fail after the snapshot."""

    def __init__(self, *, stall_after: int | None = None, fail_after: int | None = None) -> None:
        self.sent: list[bytes] = []
        self.closed: list[int] = []
        self.stall_after = stall_after
        self.fail_after = fail_after
        self.unstall = asyncio.Event()

    async def send(self, data: bytes) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionResetError("peer went away")
        if self.stall_after is not None and len(self.sent) >= self.stall_after:
            await self.unstall.wait()
        self.sent.append(data)

    async def close(self, code: int) -> None:
        self.closed.append(code)

    @property
    def texts(self) -> list[str]:
        return [data.decode() for data in self.sent]
