"""One broker subscription per watched order and process, dropped when the last viewer leaves."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_URL
from tests.eventually import eventually
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import Watcher, channels_of, numsub


@pytest.mark.redis
async def test_last_viewer_leaving_unsubscribes_the_redis_channel(
    make_portal: MakePortal, shared_redis: Redis
) -> None:
    server, api = await make_portal(redis_url=REDIS_URL)
    runtime = server.runtime
    origin = runtime.settings.base_origin
    number, token = await api.create_order()
    channel = runtime.channel(number)
    first = await Watcher.open(server.ws_url(token), origin)
    second = await Watcher.open(server.ws_url(token), origin)
    third = await Watcher.open(server.ws_url(token), origin)
    await eventually(lambda: all(w.frames for w in (first, second, third)))
    # However many viewers, one subscription for the order in this process.
    assert await numsub(shared_redis, channel) == 1
    assert runtime.broker.subscriptions == frozenset({channel})
    assert runtime.hub.stats()["topics"] == 1

    await first.close()
    # A viewer that vanishes without a closing handshake (a dropped network) counts too.
    second.connection.transport.abort()
    await eventually(lambda: runtime.hub.stats()["viewers"] == 1)
    assert await numsub(shared_redis, channel) == 1

    await third.close()
    await eventually(lambda: runtime.hub.stats()["viewers"] == 0)
    await eventually(lambda: _gone(shared_redis, channel))
    assert runtime.broker.subscriptions == frozenset()
    assert runtime.hub.stats()["topics"] == 0

    # The channel comes back with the next viewer, who starts from a fresh snapshot.
    await api.delay(number)
    again = await Watcher.open(server.ws_url(token), origin)
    await again.wait_for(2)
    assert again.seqs() == [1, 2]
    assert await numsub(shared_redis, channel) == 1
    await again.close()
    await eventually(lambda: _gone(shared_redis, channel))
    # No order channel is left; the inquiry bell's own channel stays for the process's life.
    left = await channels_of(shared_redis, runtime.settings.instance)
    assert [c for c in left if c != runtime.inquiry_bell.channel.encode()] == []


async def _gone(client: Redis, channel: str) -> bool:
    return await numsub(client, channel) == 0


async def test_last_viewer_leaving_unsubscribes_in_process(make_portal: MakePortal) -> None:
    server, api = await make_portal()
    runtime = server.runtime
    origin = runtime.settings.base_origin
    number_a, token_a = await api.create_order()
    number_b, token_b = await api.create_order()
    on_a = await Watcher.open(server.ws_url(token_a), origin)
    on_b = await Watcher.open(server.ws_url(token_b), origin)
    await eventually(lambda: bool(on_a.frames and on_b.frames))
    assert runtime.broker.subscriptions == {runtime.channel(number_a), runtime.channel(number_b)}
    await on_a.close()
    await eventually(lambda: runtime.broker.subscriptions == {runtime.channel(number_b)})
    await on_b.close()
    await eventually(lambda: runtime.broker.subscriptions == frozenset())
    assert runtime.hub.stats()["topics"] == 0
