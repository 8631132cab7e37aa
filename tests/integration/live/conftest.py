"""Fixtures for the live-update tests: portals in this event loop or as `portal serve`
subprocesses, a private redis-server, and an admin client for the shared Redis."""

from __future__ import annotations

import asyncio
import functools
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

import portal.runtime
from portal.app import create_app
from portal.settings import Settings
from realtime.hub import create_hub
from tests.conftest import REDIS_URL
from tests.e2e.conftest import WEBHOOK_SECRET as PROCESS_WEBHOOK_SECRET
from tests.e2e.conftest import PortalProcess
from tests.integration.conftest import WEBHOOK_SECRET, FrozenClock, add_api_key, migrated
from tests.integration.live.helpers import Api, InProcessPortal, RedisServer

MakePortal = Callable[..., Awaitable[tuple[InProcessPortal, Api]]]
SpawnPortal = Callable[..., Awaitable[tuple[PortalProcess, Api]]]


@pytest.fixture
async def make_portal(
    settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MakePortal]:
    """Start the portal in this loop: ``await make_portal(redis_url=..., queue_limit=...)``."""
    started: list[tuple[InProcessPortal, Api]] = []
    await migrated(settings.database_url)
    key = await add_api_key(settings.database_url)

    async def make(
        redis_url: str | None = None,
        queue_limit: int | None = None,
        send_buffer: int | None = None,
    ) -> tuple[InProcessPortal, Api]:
        if queue_limit is not None:
            monkeypatch.setattr(
                portal.runtime, "create_hub", functools.partial(create_hub, queue_limit=queue_limit)
            )
        app = create_app(replace(settings, redis_url=redis_url), clock=clock, dispatcher=False)
        server = InProcessPortal(app, send_buffer)
        await server.start()
        api = Api(server.base_url, key, WEBHOOK_SECRET, clock)
        started.append((server, api))
        return server, api

    yield make
    for server, api in started:
        await api.aclose()
        await server.stop()


@pytest.fixture
async def spawn_portal(tmp_path: Path) -> AsyncIterator[SpawnPortal]:
    """Start `portal serve` subprocesses: ``await spawn_portal(instance_dir, env, api_key)``."""
    spawned: list[tuple[PortalProcess, Api]] = []

    async def spawn(
        instance: Path,
        env: dict[str, str] | None = None,
        api_key: str | None = None,
        name: str = "server",
    ) -> tuple[PortalProcess, Api]:
        process = await asyncio.to_thread(
            PortalProcess, instance, env, api_key=api_key, log_name=f"{name}.log"
        )
        api = Api(process.base_url, process.api_key, PROCESS_WEBHOOK_SECRET)
        spawned.append((process, api))
        await asyncio.to_thread(process.start)
        return process, api

    yield spawn
    for process, api in spawned:
        await api.aclose()
        await asyncio.to_thread(process.stop)


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A private redis-server this test may kill and start again (never the shared one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis")
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
async def shared_redis() -> AsyncIterator[Redis]:
    """An admin client for the shared Redis (read-only use: PUBSUB queries)."""
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def instance_name() -> str:
    return f"live-{uuid.uuid4().hex[:10]}"
