"""The publisher: never waits, coalesces per order, drops when full, retries a down broker."""

from __future__ import annotations

import asyncio

import pytest

from portal import publisher as publisher_module
from portal.metrics import Metrics
from portal.publisher import Publisher
from realtime.broker import BrokerUnavailable


class FakeBroker:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[str, bytes]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def publish(self, channel: str, message: bytes) -> None:
        await self.release.wait()
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailable("down")
        self.sent.append((channel, message))


def value(metric: object) -> float:
    return metric._value.get()  # type: ignore[attr-defined]


async def run_until_idle(publisher: Publisher, broker: FakeBroker) -> None:
    task = asyncio.create_task(publisher.run())
    for _ in range(200):
        await asyncio.sleep(0.005)
        if not publisher._pending:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_doorbells_for_one_order_are_coalesced_to_the_newest() -> None:
    broker, metrics = FakeBroker(), Metrics()
    publisher = Publisher(broker, metrics)  # type: ignore[arg-type]
    for seq in range(1, 6):
        publisher.offer("portal:A1", f"A1:{seq}".encode())
    publisher.offer("portal:B2", b"B2:1")
    assert value(metrics.publish_queue) == 2
    await run_until_idle(publisher, broker)
    assert broker.sent == [("portal:A1", b"A1:5"), ("portal:B2", b"B2:1")]
    assert value(metrics.publish_queue) == 0


async def test_a_full_queue_drops_new_orders_and_counts_them() -> None:
    broker, metrics = FakeBroker(), Metrics()
    publisher = Publisher(broker, metrics, capacity=2)  # type: ignore[arg-type]
    publisher.offer("a", b"1")
    publisher.offer("b", b"1")
    publisher.offer("c", b"1")  # dropped
    publisher.offer("a", b"2")  # an order already waiting is still updated
    assert value(metrics.publish_dropped) == 1
    await run_until_idle(publisher, broker)
    assert broker.sent == [("a", b"2"), ("b", b"1")]


async def test_a_broker_that_is_down_is_retried_with_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(publisher_module, "RETRY_BASE_SECONDS", 0.001)
    broker, metrics = FakeBroker(failures=3), Metrics()
    publisher = Publisher(broker, metrics)  # type: ignore[arg-type]
    publisher.offer("a", b"1")
    await run_until_idle(publisher, broker)
    assert broker.sent == [("a", b"1")]
    assert value(metrics.publish_failures) == 3


async def test_a_newer_doorbell_arriving_during_a_publish_is_not_lost() -> None:
    broker, metrics = FakeBroker(), Metrics()
    publisher = Publisher(broker, metrics)  # type: ignore[arg-type]
    broker.release.clear()
    task = asyncio.create_task(publisher.run())
    publisher.offer("a", b"1")
    await asyncio.sleep(0.01)  # the worker is inside publish("a", 1)
    publisher.offer("a", b"2")
    broker.release.set()
    for _ in range(100):
        await asyncio.sleep(0.005)
        if len(broker.sent) == 2:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert broker.sent == [("a", b"1"), ("a", b"2")]
