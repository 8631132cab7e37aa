"""Reconnect storms against a real `portal serve` process: hundreds of tracking sockets at once
share link look-ups and snapshot reads, each gets its own order's snapshot, and with the
catch-up capacity set tiny the excess is closed with 1013 and gets in on a retry."""

from __future__ import annotations

import asyncio
import random
import re
from functools import partial
from pathlib import Path

import httpx

from tests.e2e.conftest import PortalProcess
from tests.eventually import eventually
from tests.integration.live.conftest import SpawnPortal
from tests.integration.live.helpers import Api, Watcher

WORK = re.compile(r'^portal_ws_connect_work\{kind="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


async def connect_work(process: PortalProcess) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(process.base_url + "/metrics")).text
    return {kind: int(float(value)) for kind, value in WORK.findall(text)}


async def orders_with_links(api: Api, orders: int, extra_links: int) -> list[tuple[str, str]]:
    """(order number, token) for ``orders`` new orders, each with ``extra_links`` more links."""
    made: list[tuple[str, str]] = []
    for _ in range(orders):
        number, token = await api.create_order()
        made.append((number, token))
        for _ in range(extra_links):
            made.append((number, await api.link(number)))
    return made


def _settled(watcher: Watcher) -> bool:
    return bool(watcher.frames) or watcher.closed.is_set()


def ws_url(process: PortalProcess, token: str) -> str:
    return f"ws://127.0.0.1:{process.port}/t/{token}/ws"


async def test_a_storm_shares_link_queries_and_snapshot_reads(
    spawn_portal: SpawnPortal, tmp_path: Path
) -> None:
    process, api = await spawn_portal(tmp_path / "instance")
    links = await orders_with_links(api, orders=30, extra_links=3)  # 120 tokens
    sockets = [links[n % len(links)] for n in range(360)]
    before = await connect_work(process)
    watchers = await asyncio.gather(
        *(Watcher.open(ws_url(process, token), process.origin) for _, token in sockets)
    )
    await eventually(lambda: all(w.frames for w in watchers), timeout=15)
    for (number, _), watcher in zip(sockets, watchers, strict=True):
        assert number in watcher.frames[0]  # its own order's snapshot...
        assert watcher.seqs() == [1]  # ...with the order's one event
    work = await connect_work(process)
    done = {kind: work[kind] - before.get(kind, 0) for kind in work}
    assert done["link_lookups"] <= len(sockets)  # the same token in one batch: asked once
    assert done["link_queries"] <= len(sockets) // 10, done
    assert done["snapshot_reads"] + done["snapshots_shared"] == len(sockets), done
    assert done["snapshot_reads"] <= len(sockets) // 3, done
    # Reads of different orders at one moment share one set of statements (how many share
    # depends on how the connects fall in time: 30 reads in 16 queries on the 2-core machine).
    assert done["snapshot_orders"] == done["snapshot_reads"], done
    assert done["snapshot_queries"] < done["snapshot_reads"], done
    assert done["refused_busy"] == 0
    # After the storm every socket goes on with its order's events: no gap, no duplicate.
    changed = {number for number, _ in links[::8]}
    for number in changed:
        await api.delay(number)
    for (number, _), watcher in zip(sockets, watchers, strict=True):
        if number in changed:
            await watcher.wait_for(2)
            assert watcher.seqs() == [1, 2]
    await asyncio.gather(*(w.close() for w in watchers))


async def test_excess_sockets_are_closed_with_1013_and_get_in_on_a_retry(
    spawn_portal: SpawnPortal, tmp_path: Path
) -> None:
    env = {
        "PORTAL_WS_CATCHUP_CONCURRENCY": "1",
        "PORTAL_WS_CATCHUP_QUEUE": "0",
        "PORTAL_WS_SNAPSHOT_REUSE": "0",
    }
    process, api = await spawn_portal(tmp_path / "instance", env)
    links = await orders_with_links(api, orders=60, extra_links=0)
    refusals: list[int] = []

    async def until_in(token: str) -> Watcher:
        """One page's socket: on 1013 it comes back after a jittered, growing backoff."""
        for attempt in range(20):
            watcher = await Watcher.open(ws_url(process, token), process.origin)
            await eventually(partial(_settled, watcher), 10)
            if watcher.frames:
                return watcher
            assert watcher.close_code == 1013, watcher.close_code  # try again later
            refusals.append(1)
            await asyncio.sleep(random.uniform(0, min(2.0, 0.02 * 2**attempt)))
        raise AssertionError("never got in")

    watchers = await asyncio.gather(*(until_in(token) for _, token in links))
    served = {token: watcher for (_, token), watcher in zip(links, watchers, strict=True)}
    assert refusals  # 60 at once with room for one read and none waiting
    assert (await connect_work(process))["refused_busy"] == len(refusals)
    for number, token in links:
        assert served[token].seqs() == [1] and number in served[token].frames[0]
    await asyncio.gather(*(w.close() for w in served.values()))
