"""The broker contract: publish opaque bytes on named channels, hear the channels subscribed to.

Two implementations: :class:`realtime.memory.InProcessBroker` (one process, the embedded default)
and :class:`realtime.redis_broker.RedisBroker` (Redis pub/sub, across processes and hosts).
:func:`create_broker` picks one from a URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias
from urllib.parse import urlsplit, urlunsplit

MessageHandler: TypeAlias = Callable[[str, bytes], Awaitable[None]]
"""Called with ``(channel, message)`` for every message heard on a subscribed channel."""

ReconnectHandler: TypeAlias = Callable[[], Awaitable[None]]
"""Called after the broker got its subscriptions back following an outage."""

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class BrokerUnavailable(Exception):
    """The broker cannot take a message right now (not started, or its server is unreachable)."""


class Broker(Protocol):
    """What the hub and the portal need from a pub/sub broker.

    Implementations record a ``subscribe``/``unsubscribe`` in :attr:`subscriptions` before
    their first suspension point, so calls take effect in the order they were made even when
    they overlap (the hub relies on this when a topic's last viewer leaves as a new one joins).
    Message handlers are awaited in arrival order and must be quick; their exceptions are
    logged, never propagated to the publisher or allowed to stop delivery.
    """

    async def start(self) -> None:
        """Begin work (connect, start reading). Does not fail when the server is down."""
        ...

    async def stop(self) -> None:
        """Stop reading, drop every subscription and release connections."""
        ...

    async def publish(self, channel: str, message: bytes) -> None:
        """Send ``message`` to every subscriber of ``channel``; raise BrokerUnavailable if not."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Start hearing ``channel``; a no-op when already subscribed."""
        ...

    async def unsubscribe(self, channel: str) -> None:
        """Stop hearing ``channel``; a no-op when not subscribed."""
        ...

    async def ping(self) -> bool:
        """True when the broker can currently deliver messages (for readiness probes)."""
        ...

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels this broker wants to hear."""
        ...


def redact_url(url: str) -> str:
    """``url`` with any password replaced, for logs and error messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparseable url>"


def create_broker(
    url: str | None,
    on_message: MessageHandler,
    on_reconnect: ReconnectHandler | None = None,
) -> Broker:
    """Build the broker named by ``url`` (typically ``PORTAL_REDIS_URL``).

    ``None``, ``""`` or ``"memory://"`` give an :class:`~realtime.memory.InProcessBroker`;
    ``redis://``, ``rediss://`` and ``unix://`` URLs give a
    :class:`~realtime.redis_broker.RedisBroker` (redis is imported only then). Anything else
    raises ``ValueError``. Nothing connects until ``start()``.
    """
    if url is None or url.strip() == "" or url.strip().lower() == "memory://":
        from realtime.memory import InProcessBroker

        return InProcessBroker(on_message, on_reconnect)
    scheme, sep, _ = url.partition("://")
    if sep and scheme.lower() in REDIS_SCHEMES:
        # Imported here so the embedded default never loads the redis package.
        from realtime.redis_broker import RedisBroker

        return RedisBroker(url, on_message, on_reconnect)
    raise ValueError(
        f"unsupported broker URL {redact_url(url)!r}: expected nothing or memory:// for the "
        "in-process broker, or a redis://, rediss:// or unix:// URL for Redis pub/sub"
    )
