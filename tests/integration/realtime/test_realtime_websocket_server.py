"""pump() behind a real uvicorn server, with the settings the websocket module documents,
driven by a real WebSocket client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime.hub import Hub, create_hub
from realtime.websocket import origin_allowed, pump
from tests.eventually import eventually
from tests.unit.realtime.realtime_fakes import FakeSource

ORIGIN = "http://127.0.0.1:8000"


@dataclass
class Server:
    hub: Hub
    source: FakeSource
    url: str


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    source = FakeSource()
    hub = create_hub(None, source, channel_for=lambda topic: f"srv:{topic}")

    async def live(websocket: WebSocket) -> None:
        if not origin_allowed(websocket.headers.get("origin"), ORIGIN):
            await websocket.close()  # before accept: the upgrade is refused with 403
            return
        await websocket.accept()
        await pump(websocket, hub, websocket.path_params["topic"])

    app = Starlette(routes=[WebSocketRoute("/t/{topic}/ws", live)])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_max_size=4096,
        ws_per_message_deflate=False,
    )
    uv = uvicorn.Server(config)
    serving = asyncio.create_task(uv.serve())
    await eventually(lambda: uv.started, timeout=5)
    port = uv.servers[0].sockets[0].getsockname()[1]
    await hub.broker.start()
    try:
        yield Server(hub, source, f"ws://127.0.0.1:{port}/t")
    finally:
        await hub.close_all()
        uv.should_exit = True
        await serving
        await hub.broker.stop()


async def test_snapshot_then_increments_as_text_frames(server: Server) -> None:
    async with connect(f"{server.url}/A1/ws", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        assert await ws.recv() == "snapshot A1 @0"
        await server.hub.broker.publish("srv:A1", server.source.commit("A1"))
        assert await asyncio.wait_for(ws.recv(), 2) == "A1 #1"
    await eventually(lambda: server.hub.stats()["viewers"] == 0)
    assert server.hub.broker.subscriptions == frozenset()


async def test_foreign_origin_is_refused_at_the_handshake(server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.url}/A1/ws", origin="https://evil.test"):  # type: ignore[arg-type]
            pytest.fail("connected")
    assert refused.value.response.status_code == 403
    assert server.hub.stats()["topics"] == 0


async def test_oversized_client_frame_closes_1009(server: Server) -> None:
    async with connect(f"{server.url}/A1/ws", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        await ws.recv()
        await ws.send("x" * 2000)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_flooding_client_closes_1008(server: Server) -> None:
    async with connect(f"{server.url}/A1/ws", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        await ws.recv()
        for _ in range(10):
            await ws.send("hi")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_shutdown_closes_with_1012(server: Server) -> None:
    async with connect(f"{server.url}/A1/ws", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        await ws.recv()
        await server.hub.close_all()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
