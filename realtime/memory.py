"""The embedded default broker: messages reach this process's subscribers only."""

from __future__ import annotations

import logging

from realtime.broker import BrokerUnavailable, MessageHandler, ReconnectHandler

logger = logging.getLogger(__name__)


class InProcessBroker:
    """A broker for a single process.

    ``publish`` awaits the message handler directly, so delivery is complete when it returns
    (keep the handler quick: :meth:`realtime.hub.Hub.on_message` only queues work). A handler
    failure is logged and never reaches the publisher, as with a remote broker. There is no
    connection to lose, so ``on_reconnect`` is accepted for symmetry but never called.
    """

    __slots__ = ("_channels", "_on_message", "_running")

    def __init__(
        self, on_message: MessageHandler, on_reconnect: ReconnectHandler | None = None
    ) -> None:
        self._on_message = on_message
        self._channels: set[str] = set()
        self._running = False

    async def start(self) -> None:
        """Accept publishes from now on."""
        self._running = True

    async def stop(self) -> None:
        """Refuse publishes and forget every subscription."""
        self._running = False
        self._channels.clear()

    async def publish(self, channel: str, message: bytes) -> None:
        """Deliver ``message`` to this process if it subscribes to ``channel``."""
        if not self._running:
            raise BrokerUnavailable("the in-process broker is not running")
        if channel not in self._channels:
            return
        try:
            await self._on_message(channel, message)
        except Exception:
            # The publisher has usually committed already; a subscriber's bug is not its problem.
            logger.exception("message handler failed for channel %r", channel)

    async def subscribe(self, channel: str) -> None:
        """Hear ``channel`` from now on."""
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        """Stop hearing ``channel``."""
        self._channels.discard(channel)

    async def ping(self) -> bool:
        """True while started."""
        return self._running

    @property
    def subscriptions(self) -> frozenset[str]:
        """The channels subscribed to."""
        return frozenset(self._channels)
