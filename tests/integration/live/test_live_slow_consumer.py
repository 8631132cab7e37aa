"""A viewer that stops reading is closed with 1013 once its bounded queue is full; the other
viewers of the same order never notice."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.eventually import eventually
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import RedisServer, Watcher

QUEUE_LIMIT = 2
LONG_MESSAGE = "Heavy snow on the route; the depot is closed until further notice. " * 14


def tiny_socket(port: int) -> socket.socket:
    """A client socket with a small receive buffer, so a client that stops reading soon
    pushes back on the server instead of the kernel buffering megabytes for it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_a_stalled_viewer_is_closed_with_1013_and_others_are_unaffected(
    make_portal: MakePortal,
) -> None:
    server, api = await make_portal(queue_limit=QUEUE_LIMIT, send_buffer=4096)
    hub = server.runtime.hub
    origin = server.runtime.settings.base_origin
    number, token = await api.create_order()
    healthy = await Watcher.open(server.ws_url(token), origin)
    # max_queue=1: the client library stops reading the socket after one unread message.
    stalled = await connect(
        server.ws_url(token),
        origin=origin,  # type: ignore[arg-type]
        sock=tiny_socket(server.port),
        max_queue=1,
        open_timeout=5,
    )
    await eventually(lambda: hub.stats()["viewers"] == 2)

    seq = 1
    while hub.stats()["dropped_slow"] == 0:
        assert seq < 400, "the stalled viewer was never dropped"
        await api.delay(number, LONG_MESSAGE)
        seq += 1
    # More events after the drop still reach the healthy viewer, and only it.
    for _ in range(3):
        await api.delay(number, "After the drop")
        seq += 1
    await healthy.wait_for(seq)
    assert healthy.seqs() == list(range(1, seq + 1))
    assert not healthy.closed.is_set()
    assert hub.stats()["viewers"] == 1
    assert hub.stats()["dropped_slow"] == 1

    # The stalled client reads again (within the hub's close timeout): after what the server
    # had already written, it finds a 1013 close frame, and reconnects to a fresh snapshot.
    received = 0
    try:
        async for _ in stalled:
            received += 1
    except ConnectionClosed:
        pass
    assert stalled.close_code == 1013
    assert seq - received > QUEUE_LIMIT  # it was really behind
    again = await Watcher.open(server.ws_url(token), origin)
    await eventually(lambda: bool(again.frames))
    assert again.seqs() == list(range(1, seq + 1))
    await again.close()
    await healthy.close()
    await eventually(lambda: hub.stats()["viewers"] == 0)


@pytest.mark.redis
async def test_a_repair_bigger_than_the_queue_is_not_slowness(
    make_portal: MakePortal, redis_server: RedisServer
) -> None:
    """After an outage the hub renders every missed event at once: a viewer that keeps up
    takes the whole burst, however small its queue."""
    server, api = await make_portal(redis_url=redis_server.url, queue_limit=QUEUE_LIMIT)
    runtime = server.runtime
    number, token = await api.create_order()
    watcher = await Watcher.open(server.ws_url(token), runtime.settings.base_origin)
    await watcher.wait_for(1)
    redis_server.kill()
    await eventually(lambda: _down(runtime))
    missed = QUEUE_LIMIT * 3
    for n in range(missed):
        await api.delay(number, f"Missed #{n}")
    await asyncio.to_thread(redis_server.start)
    await watcher.wait_for(1 + missed, timeout=15)
    assert watcher.seqs() == list(range(1, missed + 2))
    assert not watcher.closed.is_set()
    stats = runtime.hub.stats()
    assert stats["dropped_slow"] == 0 and stats["resyncs"] >= 1
    await watcher.close()


async def _down(runtime: object) -> bool:
    return not await runtime.broker.ping()  # type: ignore[attr-defined]
