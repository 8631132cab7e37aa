"""RedisBroker against a tiny fake Redis that can fall silent without closing the socket: the
half-open connection a network partition leaves behind, which only a keepalive can detect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from realtime.redis_broker import RedisBroker


class FakeRedis:
    """Speaks just enough RESP2 for a subscriber; ``silence()`` mutes the sockets open now."""

    def __init__(self) -> None:
        self.muted: set[int] = set()
        self.connections = 0
        self.subscribed: list[list[str]] = []  # SUBSCRIBE arguments, per command
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.writers.append(writer)
        subscribed = 0
        try:
            while True:
                command = await self._read_command(reader)
                if command is None:
                    return
                if number in self.muted:
                    continue
                name = command[0].upper()
                if name == "SUBSCRIBE":
                    self.subscribed.append(command[1:])
                    for channel in command[1:]:
                        subscribed += 1
                        writer.write(self._push("subscribe", channel, subscribed))
                elif name == "PING":
                    writer.write(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n" if subscribed else b"+PONG\r\n")
                else:  # CLIENT SETNAME, CLIENT SETINFO, ...
                    writer.write(b"+OK\r\n")
                await writer.drain()
        except ConnectionError:
            return

    def silence(self) -> None:
        self.muted.update(range(1, self.connections + 1))

    @staticmethod
    async def _read_command(reader: asyncio.StreamReader) -> list[str] | None:
        header = await reader.readline()
        if not header:
            return None
        args = []
        for _ in range(int(header[1:])):
            size = int((await reader.readline())[1:])
            args.append((await reader.readexactly(size + 2))[:-2].decode())
        return args

    @staticmethod
    def _push(kind: str, channel: str, count: int) -> bytes:
        return (
            f"*3\r\n${len(kind)}\r\n{kind}\r\n${len(channel)}\r\n{channel}\r\n:{count}\r\n"
        ).encode()


@pytest.fixture
async def fake_redis() -> AsyncIterator[tuple[FakeRedis, int]]:
    fake = FakeRedis()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    try:
        yield fake, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in fake.writers:
            writer.close()
        await server.wait_closed()


async def test_a_silent_connection_is_detected_and_replaced(
    fake_redis: tuple[FakeRedis, int],
) -> None:
    fake, port = fake_redis
    reconnected = asyncio.Event()

    async def on_message(channel: str, message: bytes) -> None:
        pass

    async def on_reconnect() -> None:
        reconnected.set()

    broker = RedisBroker(
        f"redis://127.0.0.1:{port}/0",
        on_message,
        on_reconnect,
        keepalive_interval=0.1,
        backoff_initial=0.02,
    )
    await broker.start()
    try:
        await broker.subscribe("orders:A1")
        await asyncio.sleep(0.35)  # several quiet intervals, each answered: no reconnect
        assert fake.connections == 1 and not reconnected.is_set()
        fake.silence()  # the socket stays open; nothing comes back any more
        await asyncio.wait_for(reconnected.wait(), 2)
        assert fake.connections == 2
        assert fake.subscribed[-1] == ["orders:A1"]  # re-subscribed on the new connection
        assert await broker.ping()
    finally:
        await broker.stop()
