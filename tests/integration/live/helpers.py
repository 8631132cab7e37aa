"""Helpers for the live-update tests: an API client, a recording websocket client, a private
redis-server, and the portal served by uvicorn inside the test's event loop."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from portal.server import WS_OPTIONS
from tests.eventually import eventually
from tests.webhook_sender import generic_body, post_signed, sign

EVENT_ID = re.compile(r'\bid="ev-(\d+)"')
SNAPSHOT_PREFIX = '<div id="live" hx-swap-oob="true">'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token_of(tracking_url: str) -> str:
    return urlsplit(tracking_url).path.rsplit("/", 1)[1]


def number(prefix: str = "LV") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


class Api:
    """The shop's side, over real HTTP: orders, shipments, delays, signed carrier webhooks."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=15
        )
        self.webhook_secret = webhook_secret
        self.clock = clock or (lambda: datetime.now(UTC))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def create_order(self, order_number: str | None = None) -> tuple[str, str]:
        """A new order; returns its number and the token of its share link."""
        today = datetime.now(UTC).date()
        body = {
            "order_number": order_number or number(),
            "customer": {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "timezone": "Europe/London",
            },
            "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 2}],
            "promised_ship_by": (today + timedelta(days=1)).isoformat(),
            "promised_deliver_by": (today + timedelta(days=4)).isoformat(),
        }
        answer = await self.client.post("/api/v1/orders", json=body)
        assert answer.status_code == 201, answer.text
        data = answer.json()
        return data["order_number"], token_of(data["tracking_url"])

    async def delay(self, order_number: str, message: str = "Storm on the route") -> None:
        """One new event on the order (each delay is one)."""
        answer = await self.client.post(
            f"/api/v1/orders/{order_number}/delays",
            json={"reason_code": "weather", "message": message},
        )
        assert answer.status_code == 201, answer.text

    async def link(self, order_number: str, expires_in_days: int | None = 30) -> str:
        answer = await self.client.post(
            f"/api/v1/orders/{order_number}/links", json={"expires_in_days": expires_in_days}
        )
        assert answer.status_code == 201, answer.text
        return token_of(answer.json()["url"])

    async def shipment(self, order_number: str, tracking: str) -> None:
        answer = await self.client.post(
            f"/api/v1/orders/{order_number}/shipments",
            json={"carrier": "dhl", "tracking_number": tracking},
        )
        assert answer.status_code == 201, answer.text

    async def carrier_event(
        self,
        tracking: str,
        status: str,
        message: str,
        *,
        reason: str | None = None,
        eta: date | None = None,
    ) -> None:
        body = generic_body(
            tracking,
            status,
            self.clock(),
            message,
            estimated_delivery=eta.isoformat() if eta else None,
            reason_code=reason,
        )
        signed = sign("generic", body, self.webhook_secret, self.clock())
        answer = await post_signed(self.client, "generic", body, signed)
        assert answer.status_code in (200, 202), answer.text


def event_ids(frame: str) -> list[int]:
    return [int(found) for found in EVENT_ID.findall(frame)]


class Watcher:
    """A websocket client that reads every frame in the background and notes how it ended."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[str] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, origin: str, **options: Any) -> Watcher:
        connection = await connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            open_timeout=10,
            close_timeout=2,
            **options,
        )
        return cls(connection)

    async def _read(self) -> None:
        try:
            async for message in self.connection:
                self.frames.append(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code
            self.close_reason = self.connection.close_reason
            self.closed.set()

    def seqs(self) -> list[int]:
        """Event ids in arrival order: the snapshot's in seq order, then one per increment."""
        assert self.frames, "no frame yet"
        snapshot, *increments = self.frames
        assert snapshot.startswith(SNAPSHOT_PREFIX), snapshot[:200]
        seqs = sorted(event_ids(snapshot))
        for frame in increments:
            assert not frame.startswith(SNAPSHOT_PREFIX), "a second snapshot on one socket"
            ids = event_ids(frame)
            assert len(ids) == 1, f"an increment must carry exactly one new entry: {ids}"
            seqs.extend(ids)
        return seqs

    def latest(self) -> int:
        return max((max(event_ids(f), default=0) for f in self.frames), default=0)

    async def wait_for(self, seq: int, timeout: float = 10.0) -> None:
        await eventually(lambda: self.latest() >= seq or self.closed.is_set(), timeout)
        assert self.latest() >= seq, f"socket ended with {self.close_code} before ev-{seq}"

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self) -> None:
        await self.connection.close()
        await asyncio.wait([self._reader], timeout=5)
        self._reader.cancel()


class RedisServer:
    """A private ``redis-server`` on a free port, for tests that stop and restart Redis."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class InProcessPortal:
    """The portal app served by a real uvicorn (the production websocket settings) inside the
    test's event loop, so a test can reach its runtime (hub, broker, link watch)."""

    def __init__(
        self, app: Starlette, send_buffer: int | None = None, log_level: str = "warning"
    ) -> None:
        self.app = app
        self.send_buffer = send_buffer
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, lifespan="on", log_level=log_level, **WS_OPTIONS
        )
        self.server = uvicorn.Server(config)
        self._serving: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.send_buffer is not None:
            # Accepted sockets inherit it (and lose the kernel's send-buffer autotuning), so a
            # client that stops reading pushes back on the server after a few frames.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        listener.bind(("127.0.0.1", 0))
        self._serving = asyncio.create_task(self.server.serve(sockets=[listener]))
        await eventually(lambda: self.server.started or self._serving.done(), timeout=20)  # type: ignore[union-attr]
        assert self.server.started, "uvicorn did not start"
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/t/{token}/ws"

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def stop(self) -> None:
        if self._serving is None:
            return
        self.server.should_exit = True
        await asyncio.wait_for(self._serving, 30)
        self._serving = None


async def numsub(client: Redis, channel: str) -> int:
    [(_, count)] = await client.pubsub_numsub(channel)
    return int(count)


async def channels_of(client: Redis, instance: str) -> list[bytes]:
    """The order channels the instance's processes subscribe to (the inquiry bell, subscribed for a
    process's whole life, is left out: these tests are about per-order subscriptions)."""
    bell = f"{instance}:inquiries".encode()
    return [c for c in await client.pubsub_channels(f"{instance}:*") if c != bell]
