"""create_broker's URL choices, the in-process broker, the reconnect backoff."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from realtime.broker import BrokerUnavailable, create_broker, redact_url
from realtime.memory import InProcessBroker
from realtime.redis_broker import RedisBroker, backoff_delay


async def ignore(channel: str, message: bytes) -> None:
    pass


@pytest.mark.parametrize("url", [None, "", "  ", "memory://", "MEMORY://"])
def test_no_url_or_memory_gives_the_in_process_broker(url: str | None) -> None:
    assert isinstance(create_broker(url, ignore), InProcessBroker)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://:secret@redis.internal:6380/2",
        "rediss://user:pass@redis.example.com:6380",
        "unix:///run/redis/redis.sock?db=1",
    ],
)
def test_redis_urls_give_the_redis_broker_without_connecting(url: str) -> None:
    broker = create_broker(url, ignore)
    assert isinstance(broker, RedisBroker)
    assert broker.subscriptions == frozenset()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379",
        "postgresql://db/portal",
        "memcached://cache:11211",
        "memory://elsewhere",
        "127.0.0.1:6379",
        "redis:/localhost",
    ],
)
def test_other_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported broker URL .* redis://"):
        create_broker(url, ignore)


def test_refusal_does_not_leak_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        create_broker("amqp://user:hunter2@mq:5672/", ignore)
    assert "hunter2" not in str(caught.value)
    assert "user:***@mq:5672" in str(caught.value)


def test_malformed_redis_url_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="Port"):
        create_broker("redis://localhost:notaport/0", ignore)


def test_redact_url() -> None:
    assert redact_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


def test_importing_does_nothing_and_memory_never_loads_redis() -> None:
    code = textwrap.dedent(
        """
        import asyncio, sys, threading
        import realtime, realtime.broker, realtime.hub, realtime.memory, realtime.websocket
        from realtime.broker import create_broker

        async def handler(channel, message):
            pass

        create_broker(None, handler)
        assert "redis" not in sys.modules, "redis imported for the in-process broker"
        assert threading.active_count() == 1
        """
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)


async def test_in_process_broker_delivers_to_subscribed_channels_only() -> None:
    heard: list[tuple[str, bytes]] = []

    async def handler(channel: str, message: bytes) -> None:
        heard.append((channel, message))

    broker = InProcessBroker(handler)
    await broker.start()
    await broker.subscribe("a")
    await broker.subscribe("a")  # idempotent
    await broker.publish("a", b"1")
    await broker.publish("b", b"2")
    await broker.unsubscribe("a")
    await broker.unsubscribe("a")
    await broker.publish("a", b"3")
    assert heard == [("a", b"1")]
    assert await broker.ping()
    await broker.stop()


async def test_in_process_broker_refuses_when_not_running() -> None:
    broker = InProcessBroker(ignore)
    with pytest.raises(BrokerUnavailable):
        await broker.publish("a", b"1")
    assert not await broker.ping()
    await broker.start()
    await broker.subscribe("a")
    await broker.stop()
    assert broker.subscriptions == frozenset()
    with pytest.raises(BrokerUnavailable):
        await broker.publish("a", b"1")


async def test_in_process_handler_failure_does_not_reach_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(channel: str, message: bytes) -> None:
        raise KeyError("bug")

    broker = InProcessBroker(broken)
    await broker.start()
    await broker.subscribe("a")
    await broker.publish("a", b"1")
    assert "message handler failed" in caplog.text
    await broker.stop()


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    for attempt in range(40):
        delay = backoff_delay(attempt, 0.1, 5.0)
        ceiling = min(5.0, 0.1 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len({backoff_delay(10, 0.1, 5.0) for _ in range(20)}) > 1
