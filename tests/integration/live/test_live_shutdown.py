"""A graceful shutdown closes every open socket with 1012 (service restart), so browsers come
back to a fresh snapshot when the server is up again."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_URL
from tests.eventually import eventually
from tests.integration.live.conftest import MakePortal, SpawnPortal
from tests.integration.live.helpers import Watcher, channels_of


@pytest.mark.redis
async def test_shutdown_closes_sockets_with_1012_and_drops_channels(
    make_portal: MakePortal, shared_redis: Redis
) -> None:
    server, api = await make_portal(redis_url=REDIS_URL)
    origin = server.runtime.settings.base_origin
    instance = server.runtime.settings.instance
    watchers = []
    for _ in range(2):
        _, token = await api.create_order()
        watchers += [
            await Watcher.open(server.ws_url(token), origin),
            await Watcher.open(server.ws_url(token), origin),
        ]
    await eventually(lambda: all(w.frames for w in watchers))
    assert len(await channels_of(shared_redis, instance)) == 2
    await server.stop()
    codes = await asyncio.gather(*(w.wait_closed(10) for w in watchers))
    assert codes == [1012] * 4
    assert await channels_of(shared_redis, instance) == []


async def test_sigterm_closes_sockets_with_1012(spawn_portal: SpawnPortal, tmp_path: Path) -> None:
    process, api = await spawn_portal(tmp_path / "instance")
    _, token = await api.create_order()
    url = f"ws://127.0.0.1:{process.port}/t/{token}/ws"
    watchers = [await Watcher.open(url, process.origin) for _ in range(3)]
    await eventually(lambda: all(w.frames for w in watchers))
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught.
    assert await asyncio.to_thread(process.stop) in (0, -signal.SIGTERM)
    codes = await asyncio.gather(*(w.wait_closed(10) for w in watchers))
    assert codes == [1012] * 3
