"""RedisBroker against a real Redis (PORTAL_TEST_REDIS_URL). Outages are simulated with CLIENT
KILL on this test's own connection, a port nobody listens on, or a server that never answers:
the shared Redis server itself is never stopped."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from realtime.broker import BrokerUnavailable
from realtime.hub import Hub
from realtime.redis_broker import RedisBroker
from tests.eventually import eventually
from tests.unit.realtime.realtime_fakes import FakeSource, FakeViewer

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.redis


class Recorder:
    """Broker handlers that remember what they were called with."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self.reconnects = 0
        self.reconnected = asyncio.Event()

    async def on_message(self, channel: str, message: bytes) -> None:
        self.messages.put_nowait((channel, message))

    async def on_reconnect(self) -> None:
        self.reconnects += 1
        self.reconnected.set()

    async def next_message(self, timeout: float = 2.0) -> tuple[str, bytes]:
        return await asyncio.wait_for(self.messages.get(), timeout)


MakeBroker = Callable[..., Awaitable[tuple[RedisBroker, Recorder]]]


def unique(prefix: str) -> str:
    return f"rt-test-{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def admin() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def make_broker(admin: Redis) -> AsyncIterator[MakeBroker]:
    made: list[tuple[RedisBroker, Recorder]] = []

    async def make(url: str = REDIS_URL, **options: Any) -> tuple[RedisBroker, Recorder]:
        recorder = Recorder(unique("client"))
        options.setdefault("backoff_initial", 0.05)
        broker = RedisBroker(
            url,
            recorder.on_message,
            recorder.on_reconnect,
            client_name=recorder.name,
            **options,
        )
        made.append((broker, recorder))
        await broker.start()
        return broker, recorder

    yield make
    for broker, _ in made:
        await broker.stop()
    # stop() must close every connection it opened.
    names = {recorder.name for _, recorder in made}
    deadline = time.monotonic() + 3.0
    while True:
        left = [c for c in await admin.client_list() if c["name"].rsplit("-", 1)[0] in names]
        if not left:
            break
        assert time.monotonic() < deadline, f"connections left behind: {left}"
        await asyncio.sleep(0.02)


async def numsub(admin: Redis, channel: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel)
    return int(count)


async def _no_subscriber(admin: Redis, channel: str) -> bool:
    return await numsub(admin, channel) == 0


async def kill_subscriber(admin: Redis, name: str) -> None:
    """Kill exactly this broker's subscriber connection, as a Redis restart would."""
    ids = [c["id"] for c in await admin.client_list() if c["name"] == f"{name}-sub"]
    assert len(ids) == 1, ids
    killed = await admin.execute_command("CLIENT", "KILL", "ID", ids[0], "TYPE", "pubsub")
    assert killed == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_publish_reaches_a_subscriber_in_another_broker(make_broker: MakeBroker) -> None:
    subscriber, heard = await make_broker()
    publisher, heard_by_publisher = await make_broker()
    channel = unique("ch")
    await subscriber.subscribe(channel)
    await subscriber.subscribe(channel)  # idempotent
    await publisher.publish(channel, b"\x00doorbell\xff")
    assert await heard.next_message() == (channel, b"\x00doorbell\xff")
    assert heard_by_publisher.messages.empty()
    assert subscriber.subscriptions == {channel}
    assert await subscriber.ping()


async def test_subscribe_returns_once_redis_confirmed(
    make_broker: MakeBroker, admin: Redis
) -> None:
    broker, _ = await make_broker()
    channels = [unique("ch") for _ in range(3)]
    for channel in channels:
        await broker.subscribe(channel)
        assert await numsub(admin, channel) == 1  # no polling: live on return


async def test_unsubscribe_really_unsubscribes(make_broker: MakeBroker, admin: Redis) -> None:
    broker, heard = await make_broker()
    kept, dropped = unique("kept"), unique("dropped")
    await broker.subscribe(kept)
    await broker.subscribe(dropped)
    await broker.unsubscribe(dropped)
    await broker.unsubscribe(dropped)  # no-op
    await eventually(lambda: _no_subscriber(admin, dropped), timeout=2.0, step=0.01)
    assert await numsub(admin, kept) == 1
    assert await admin.publish(dropped, b"nobody") == 0
    await admin.publish(kept, b"somebody")
    assert await heard.next_message() == (kept, b"somebody")
    assert broker.subscriptions == {kept}


async def test_reader_reconnects_resubscribes_and_reports_it(
    make_broker: MakeBroker, admin: Redis
) -> None:
    broker, heard = await make_broker()
    channels = [unique("ch"), unique("ch")]
    for channel in channels:
        await broker.subscribe(channel)
    await kill_subscriber(admin, heard.name)
    await asyncio.wait_for(heard.reconnected.wait(), 5)
    assert heard.reconnects == 1
    for channel in channels:  # re-subscribed before on_reconnect was called
        assert await numsub(admin, channel) == 1
    await admin.publish(channels[1], b"after")
    assert await heard.next_message() == (channels[1], b"after")
    assert await broker.ping()


async def test_a_failing_handler_does_not_stop_the_reader(make_broker: MakeBroker) -> None:
    got: list[bytes] = []

    async def handler(channel: str, message: bytes) -> None:
        got.append(message)
        if message == b"first":
            raise RuntimeError("handler bug")

    broker = RedisBroker(REDIS_URL, handler, client_name=unique("client"))
    await broker.start()
    try:
        channel = unique("ch")
        await broker.subscribe(channel)
        publisher, _ = await make_broker()
        await publisher.publish(channel, b"first")
        await publisher.publish(channel, b"second")
        await eventually(lambda: got == [b"first", b"second"])
    finally:
        await broker.stop()


async def test_nothing_listening_means_ping_false_and_fast_publish_failure(
    make_broker: MakeBroker,
) -> None:
    began = time.monotonic()
    broker, heard = await make_broker(f"redis://127.0.0.1:{closed_port()}/0")
    assert time.monotonic() - began < 2.0  # start() does not wait for Redis to come back
    assert not await broker.ping()
    began = time.monotonic()
    with pytest.raises(BrokerUnavailable):
        await broker.publish("anything", b"lost")
    assert time.monotonic() - began < 1.0
    channel = unique("ch")
    await broker.subscribe(channel)  # recorded for when Redis is back; does not raise
    assert broker.subscriptions == {channel}
    assert heard.reconnects == 0


async def test_a_hung_server_means_ping_false_and_publish_failure_within_a_second(
    make_broker: MakeBroker,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        broker, _ = await make_broker(f"redis://127.0.0.1:{port}/0", connect_timeout=0.3)
        began = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            await broker.publish("anything", b"lost")
        assert time.monotonic() - began < 1.0
        assert not await broker.ping()
        await broker.stop()
    finally:
        server.close()
        for writer in accepted:
            writer.close()
        await server.wait_closed()


async def test_publish_after_stop_is_refused(make_broker: MakeBroker) -> None:
    broker, _ = await make_broker()
    await broker.stop()
    assert not await broker.ping()
    with pytest.raises(BrokerUnavailable):
        await broker.publish("anything", b"x")


async def test_two_hubs_over_redis_and_repair_after_an_outage(admin: Redis) -> None:
    """Two processes' hubs: one publishes, the other's viewer sees it; a message published
    while the viewer's process was disconnected is recovered from the source."""
    source = FakeSource()
    channel_prefix = unique("portal")

    def channel_for(topic: str) -> str:
        return f"{channel_prefix}:{topic}"

    name = unique("client")
    watching_broker = RedisBroker(
        REDIS_URL,
        lambda c, m: watching.on_message(c, m),
        lambda: watching.on_reconnect(),
        client_name=name,
        backoff_initial=0.6,  # a long enough outage to publish into
    )
    watching = Hub(watching_broker, source, channel_for=channel_for)
    publishing_broker = RedisBroker(
        REDIS_URL, lambda c, m: publishing.on_message(c, m), client_name=unique("client")
    )
    publishing = Hub(publishing_broker, source, channel_for=channel_for)
    await watching_broker.start()
    await publishing_broker.start()
    viewer = FakeViewer()
    try:
        async with watching.watch("A1001", viewer):
            await publishing_broker.publish(channel_for("A1001"), source.commit("A1001"))
            await eventually(lambda: viewer.texts == ["snapshot A1001 @0", "A1001 #1"])

            await kill_subscriber(admin, name)
            await eventually(
                lambda: _no_subscriber(admin, channel_for("A1001")), timeout=2, step=0.01
            )
            # Published into the outage: pub/sub drops it...
            await publishing_broker.publish(channel_for("A1001"), source.commit("A1001"))
            # ...and the reconnect repairs it from the source.
            await eventually(lambda: len(viewer.sent) == 3, timeout=5)
            assert viewer.texts[2] == "A1001 #2"
            assert ("A1001", 1, None) in source.increment_calls

            await publishing_broker.publish(channel_for("A1001"), source.commit("A1001"))
            await eventually(lambda: len(viewer.sent) == 4)
        assert viewer.texts[3] == "A1001 #3"
        assert watching_broker.subscriptions == frozenset()
    finally:
        await watching.close_all()
        await publishing.close_all()
        await watching_broker.stop()
        await publishing_broker.stop()


async def test_keepalive_pings_keep_a_quiet_connection(
    make_broker: MakeBroker, admin: Redis
) -> None:
    broker, heard = await make_broker(keepalive_interval=0.05)
    await asyncio.sleep(0.3)  # quiet and subscribed to nothing: plain +PONG replies
    channel = unique("ch")
    await broker.subscribe(channel)
    await asyncio.sleep(0.3)  # quiet while subscribed: pub/sub pong replies
    assert heard.reconnects == 0
    await admin.publish(channel, b"still here")
    assert await heard.next_message() == (channel, b"still here")
