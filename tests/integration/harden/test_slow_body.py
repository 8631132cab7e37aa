"""A body sent slowly is cut off with 408 in the configured time; other requests go on as usual."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest

from portal.settings import Settings
from tests.integration.live.conftest import MakePortal

BODY_TIMEOUT = 1.5


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/portal.db"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, body_timeout=BODY_TIMEOUT)


async def trickle(port: int, path: str, content_type: str, auth: str) -> tuple[bytes, float]:
    """Send headers, then one body byte a second; the answer and how long it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Authorization: {auth}\r\nContent-Length: 200\r\n\r\n".encode()
    )
    await writer.drain()

    async def drip() -> None:
        for _ in range(200):
            await asyncio.sleep(1)
            writer.write(b" ")
            await writer.drain()

    dripping = asyncio.create_task(drip())
    try:
        answer = await asyncio.wait_for(reader.read(65536), timeout=BODY_TIMEOUT + 5)
        elapsed = time.monotonic() - started
        # The server closes the connection after its answer.
        rest = await asyncio.wait_for(reader.read(), timeout=5)
        return answer + rest, elapsed
    finally:
        dripping.cancel()
        writer.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/orders", "application/json"),
        ("/webhooks/generic", "application/json"),
        ("/track", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_trickled_body_is_408_in_time_while_others_are_served(
    make_portal: MakePortal, path: str, content_type: str
) -> None:
    server, api = await make_portal()
    auth = api.client.headers["Authorization"]
    slow = asyncio.create_task(trickle(server.port, path, content_type, auth))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await asyncio.sleep(0.3)
        for _ in range(3):
            began = time.monotonic()
            answer = await client.get("/healthz")
            assert answer.status_code == 200
            assert time.monotonic() - began < 0.5
            await asyncio.sleep(0.2)
    answer, elapsed = await slow
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert BODY_TIMEOUT - 0.1 <= elapsed <= BODY_TIMEOUT + 1.5
