"""Publishing is not part of the request: with a broker whose publish takes 2 s, a webhook with
six events answers in under 500 ms, and every socket still gets every seq."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import Watcher, number
from tests.webhook_sender import post_signed, sign


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/portal.db"


def six_events(tracking: str) -> bytes:
    start = datetime.now(UTC) - timedelta(hours=6)
    statuses = [
        "pre_transit",
        "in_transit",
        "in_transit",
        "in_transit",
        "in_transit",
        "out_for_delivery",
    ]
    events: list[dict[str, Any]] = [
        {
            "tracking_number": tracking,
            "carrier": "dhl",
            "status": status,
            "occurred_at": (start + timedelta(minutes=10 * n)).isoformat().replace("+00:00", "Z"),
            "message": f"Scan {n}",
        }
        for n, status in enumerate(statuses)
    ]
    return json.dumps({"events": events}).encode()


async def test_a_slow_broker_adds_nothing_to_the_answer_and_loses_no_seq(
    make_portal: MakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, api = await make_portal()
    order_number, token = await api.create_order()
    tracking = number("JD")
    await api.shipment(order_number, tracking)
    origin = server.runtime.settings.base_origin
    watchers = [await Watcher.open(server.ws_url(token), origin) for _ in range(2)]
    for watcher in watchers:
        await watcher.wait_for(1)

    broker_class = type(server.runtime.broker.shared.broker)  # the real one, under the views
    original = broker_class.publish

    async def slow_publish(self: Any, channel: str, message: bytes) -> None:
        await asyncio.sleep(2)
        await original(self, channel, message)

    monkeypatch.setattr(broker_class, "publish", slow_publish)
    assert server.runtime.publisher.running
    body = six_events(tracking)
    signed = sign("generic", body, api.webhook_secret, datetime.now(UTC))
    started = time.monotonic()
    answer = await post_signed(api.client, "generic", body, signed)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == 6
    assert took < 0.5, took

    events = (await api.client.get(f"/api/v1/orders/{order_number}")).json()["events"]
    last = max(e["seq"] for e in events)
    for watcher in watchers:
        await watcher.wait_for(last, timeout=15)
        assert sorted(set(watcher.seqs())) == list(range(1, last + 1))
        await watcher.close()
