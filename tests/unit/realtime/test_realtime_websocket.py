"""pump() on a fake starlette WebSocket, and the Origin check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from realtime.hub import Frame, Hub, create_hub
from realtime.websocket import SocketViewer, origin_allowed, pump
from tests.eventually import eventually
from tests.unit.realtime.realtime_fakes import FakeSource


class FakeWebSocket:
    """The part of starlette's WebSocket that pump() uses, after accept()."""

    def __init__(self, *, gone: bool = False) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.texts: list[str] = []
        self.closed: list[int] = []
        self.gone = gone  # the client vanished: sending fails as in starlette

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, data: str) -> None:
        if self.gone:
            raise WebSocketDisconnect(1006)
        if self.closed:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        self.texts.append(data)

    async def close(self, code: int = 1000) -> None:
        if self.closed:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        self.closed.append(code)
        # uvicorn reports the close back to the app as a disconnect
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})

    def client_sends(self, text: str | None = None, data: bytes | None = None) -> None:
        message: dict[str, Any] = {"type": "websocket.receive"}
        if text is not None:
            message["text"] = text
        if data is not None:
            message["bytes"] = data
        self.incoming.put_nowait(message)

    def client_leaves(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1001})


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
async def hub(source: FakeSource) -> AsyncIterator[Hub]:
    hub = create_hub(None, source, channel_for=lambda topic: f"ws:{topic}", queue_limit=4)
    await hub.broker.start()
    yield hub
    await hub.close_all()
    await hub.broker.stop()


async def test_pump_sends_snapshot_then_increments_until_the_client_leaves(
    hub: Hub, source: FakeSource
) -> None:
    ws = FakeWebSocket()
    task = asyncio.create_task(pump(ws, hub, "A"))  # type: ignore[arg-type]
    await eventually(lambda: ws.texts == ["snapshot A @0"])
    await hub.broker.publish("ws:A", source.commit("A"))
    await eventually(lambda: ws.texts == ["snapshot A @0", "A #1"])
    ws.client_sends(text="ping")  # small and slow: tolerated and ignored
    ws.client_leaves()
    await asyncio.wait_for(task, 1)
    assert ws.closed == []
    assert hub.broker.subscriptions == frozenset()


@pytest.mark.parametrize(
    ("text", "data"), [("x" * 1025, None), ("é" * 600, None), (None, b"x" * 1025)]
)
async def test_pump_closes_1009_on_an_oversized_frame(
    hub: Hub, text: str | None, data: bytes | None
) -> None:
    ws = FakeWebSocket()
    ws.client_sends(text="x" * 1024)  # exactly the limit is fine
    ws.client_sends(text=text, data=data)
    await asyncio.wait_for(pump(ws, hub, "A"), 1)  # type: ignore[arg-type]
    assert ws.closed == [1009]
    assert hub.stats()["viewers"] == 0


async def test_pump_closes_1008_when_the_client_floods(hub: Hub) -> None:
    ws = FakeWebSocket()
    for _ in range(6):  # a burst of 5 is allowed at 5 per second, not 6
        ws.client_sends(text="hi")
    await asyncio.wait_for(pump(ws, hub, "A", max_frames_per_second=5.0), 1)  # type: ignore[arg-type]
    assert ws.closed == [1008]
    assert hub.broker.subscriptions == frozenset()


async def test_pump_allows_a_steady_trickle(hub: Hub) -> None:
    ws = FakeWebSocket()
    task = asyncio.create_task(pump(ws, hub, "A", max_frames_per_second=100.0))  # type: ignore[arg-type]
    for _ in range(30):
        ws.client_sends(text="hi")
        await asyncio.sleep(0.015)
    ws.client_leaves()
    await asyncio.wait_for(task, 1)
    assert ws.closed == []


async def test_pump_returns_when_the_hub_closes_the_socket(hub: Hub) -> None:
    ws = FakeWebSocket()
    task = asyncio.create_task(pump(ws, hub, "A"))  # type: ignore[arg-type]
    await eventually(lambda: len(ws.texts) == 1)
    await hub.close_all()
    await asyncio.wait_for(task, 1)
    assert ws.closed == [1012]


async def test_pump_cleans_up_when_cancelled(hub: Hub) -> None:
    ws = FakeWebSocket()
    task = asyncio.create_task(pump(ws, hub, "A"))  # type: ignore[arg-type]
    await eventually(lambda: len(ws.texts) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hub.stats()["viewers"] == 0
    assert hub.broker.subscriptions == frozenset()


async def test_pump_returns_quietly_when_the_client_vanished_before_its_snapshot(
    hub: Hub,
) -> None:
    await asyncio.wait_for(pump(FakeWebSocket(gone=True), hub, "A"), 1)  # type: ignore[arg-type]
    assert hub.stats()["viewers"] == 0
    assert hub.broker.subscriptions == frozenset()


async def test_pump_lets_source_errors_through(hub: Hub, source: FakeSource) -> None:
    async def broken(topic: str) -> Frame:
        raise ConnectionRefusedError("database down")

    source.snapshot = broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionRefusedError):
        await pump(FakeWebSocket(), hub, "A")  # type: ignore[arg-type]
    assert hub.stats()["topics"] == 0


async def test_pump_rejects_nonsense_limits(hub: Hub) -> None:
    with pytest.raises(ValueError, match="max_frames_per_second"):
        await pump(FakeWebSocket(), hub, "A", max_frames_per_second=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000", True),
        ("https://track.example.com", "https://track.example.com", True),
        ("https://track.example.com", "https://track.example.com/", True),
        ("https://track.example.com", "https://track.example.com/portal/", True),
        ("https://track.example.com:443", "https://track.example.com", True),
        ("https://TRACK.Example.com", "https://track.example.com", True),
        ("http://[::1]:8000", "http://[::1]:8000", True),
        (None, "http://127.0.0.1:8000", False),
        ("", "http://127.0.0.1:8000", False),
        ("null", "http://127.0.0.1:8000", False),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8000", False),
        ("http://localhost:8000", "http://127.0.0.1:8000", False),
        ("https://127.0.0.1:8000", "http://127.0.0.1:8000", False),
        ("http://track.example.com", "https://track.example.com", False),
        ("https://track.example.com.evil.test", "https://track.example.com", False),
        ("https://evil.test/track.example.com", "https://track.example.com", False),
        ("https://track.example.com@evil.test", "https://track.example.com", False),
        ("https://track.example.com:notaport", "https://track.example.com", False),
        ("ws://127.0.0.1:8000", "http://127.0.0.1:8000", False),
        ("file://", "http://127.0.0.1:8000", False),
        ("http://127.0.0.1:8000", "not a url", False),
    ],
)
def test_origin_allowed(origin: str | None, allowed: str, expected: bool) -> None:
    assert origin_allowed(origin, allowed) is expected


async def test_viewers_send_each_frame_as_its_own_text() -> None:
    """The decode is shared per frame object; equal-length or new frames are never mixed up."""
    sent: list[str] = []

    class Recorder:
        async def send_text(self, text: str) -> None:
            sent.append(text)

    first, second = SocketViewer(Recorder()), SocketViewer(Recorder())  # type: ignore[arg-type]
    frame = "<p>état 1</p>".encode()
    await first.send(frame)
    await second.send(frame)
    await first.send("<p>état 2</p>".encode())
    await second.send(bytes(frame))  # equal content, another object
    assert sent == ["<p>état 1</p>", "<p>état 1</p>", "<p>état 2</p>", "<p>état 1</p>"]


@pytest.mark.parametrize(("frames", "closed"), [(60, []), (61, [1008])])
async def test_pump_allows_at_most_a_minutes_worth_of_frames(
    hub: Hub, frames: int, closed: list[int]
) -> None:
    ws = FakeWebSocket()
    for _ in range(frames):
        ws.client_sends(text="ping")
    if not closed:
        ws.client_leaves()
    run = pump(ws, hub, "A", max_frames_per_second=1e6, max_frames_per_minute=60)  # type: ignore[arg-type]
    await asyncio.wait_for(run, 1)
    assert ws.closed == closed


@pytest.mark.parametrize(("text", "data"), [("hello", None), (None, b"ping"), ("{}", None)])
async def test_pump_closes_1008_on_a_frame_the_page_does_not_send(
    hub: Hub, text: str | None, data: bytes | None
) -> None:
    ws = FakeWebSocket()
    ws.client_sends(text="ping")
    ws.client_sends(text=text, data=data)
    run = pump(ws, hub, "A", accept=lambda p: p == "ping")  # type: ignore[arg-type]
    await asyncio.wait_for(run, 1)
    assert ws.closed == [1008]
