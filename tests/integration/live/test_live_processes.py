"""Live updates across real `portal serve` processes sharing one database through Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_URL
from tests.eventually import eventually
from tests.integration.live.conftest import SpawnPortal
from tests.integration.live.helpers import (
    RedisServer,
    Watcher,
    channels_of,
    numsub,
)

pytestmark = pytest.mark.redis


async def test_an_event_through_either_process_reaches_both_sockets(
    spawn_portal: SpawnPortal, tmp_path: Path, shared_redis: Redis, instance_name: str
) -> None:
    instance = tmp_path / "instance"
    env = {"PORTAL_REDIS_URL": REDIS_URL, "PORTAL_INSTANCE": instance_name}
    first, api_first = await spawn_portal(instance, env, name="first")
    # Same database, same Redis, same public origin (as behind one load balancer).
    shared = {**env, "PORTAL_BASE_URL": first.env["PORTAL_BASE_URL"]}
    second, api_second = await spawn_portal(instance, shared, first.api_key, name="second")
    assert second.origin == first.origin

    number, token = await api_first.create_order()
    on_first = await Watcher.open(f"ws://127.0.0.1:{first.port}/t/{token}/ws", first.origin)
    on_second = await Watcher.open(f"ws://127.0.0.1:{second.port}/t/{token}/ws", second.origin)
    await eventually(lambda: bool(on_first.frames and on_second.frames))
    channel = f"{instance_name}:order:{number}"
    assert await numsub(shared_redis, channel) == 2  # one subscription per process

    await api_first.delay(number, "Posted through the first process")
    await api_second.delay(number, "Posted through the second process")
    await api_second.shipment(number, "JD0123456789")
    await api_first.carrier_event("JD0123456789", "in_transit", "On its way")
    await api_second.carrier_event("JD0123456789", "out_for_delivery", "With the courier")
    order = (await api_second.client.get(f"/api/v1/orders/{number}")).json()
    latest = max(event["seq"] for event in order["events"])
    assert latest >= 6
    await asyncio.gather(on_first.wait_for(latest), on_second.wait_for(latest))
    expected = list(range(1, latest + 1))
    assert on_first.seqs() == expected
    assert on_second.seqs() == expected
    for watcher in (on_first, on_second):
        assert "Posted through the first process" in "".join(watcher.frames)
        assert "Posted through the second process" in "".join(watcher.frames)
        assert "Out for delivery" in watcher.frames[-1]

    await on_first.close()
    await on_second.close()
    await eventually(lambda: _no_channels(shared_redis, instance_name))


async def _no_channels(client: Redis, instance: str) -> bool:
    return await channels_of(client, instance) == []


async def readyz(base_url: str) -> tuple[int, dict[str, str]]:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.get(base_url + "/readyz")
    return answer.status_code, answer.json()


async def test_a_redis_restart_loses_nothing(
    spawn_portal: SpawnPortal, tmp_path: Path, redis_server: RedisServer, instance_name: str
) -> None:
    env = {
        "PORTAL_REDIS_URL": redis_server.url,
        "PORTAL_INSTANCE": instance_name,
        "PORTAL_BROKER_FALLBACK_INTERVAL": "1",
    }
    process, api = await spawn_portal(tmp_path / "instance", env)
    assert await readyz(process.base_url) == (
        200,
        {"database": "ok", "migrations": "ok", "broker": "ok"},
    )
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(process.base_url + "/healthz")).status_code == 200
    number, token = await api.create_order()
    watcher = await Watcher.open(f"ws://127.0.0.1:{process.port}/t/{token}/ws", process.origin)
    await api.delay(number, "Before the outage")
    await watcher.wait_for(2)

    redis_server.kill()
    # Nothing is lost while Redis is down: the API takes every change (the database is the
    # truth), and readiness says the broker is down.
    for n in range(3):
        await api.delay(number, f"During the outage #{n}")
    await eventually(lambda: _broker_down(process.base_url), timeout=10)
    status, checks = await readyz(process.base_url)
    assert status == 503 and checks["broker"] == "down" and checks["database"] == "ok"
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(process.base_url + "/healthz")).status_code == 200
    # Open sockets still get every change while Redis is down: the server reads the database
    # for the orders it watches every PORTAL_BROKER_FALLBACK_INTERVAL seconds.
    await watcher.wait_for(5, timeout=8)
    assert "During the outage #2" in "".join(watcher.frames)
    for n in range(3, 5):
        await api.delay(number, f"During the outage #{n}")

    await asyncio.to_thread(redis_server.start)
    await eventually(lambda: _ready(process.base_url), timeout=15)
    await watcher.wait_for(7, timeout=15)
    await api.delay(number, "After the outage")
    await watcher.wait_for(8)
    assert not watcher.closed.is_set()
    assert watcher.seqs() == list(range(1, 9))
    assert "During the outage #4" in "".join(watcher.frames)
    await watcher.close()


async def _broker_down(base_url: str) -> bool:
    status, checks = await readyz(base_url)
    return status == 503 and checks["broker"] == "down"


async def _ready(base_url: str) -> bool:
    return (await readyz(base_url))[0] == 200
