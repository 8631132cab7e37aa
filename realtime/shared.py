"""One broker connection heard by several hubs of a process.

The tracking pages and the staff order screens watch the same order channels: rather than a
second subscription (or a second publish per event) for the staff screens, every hub of a
process gets a :class:`BrokerView` of one :class:`SharedBroker`. A view keeps its own set of
channels; the real broker is subscribed while any view wants a channel and unsubscribed when
the last one lets go. Every message heard is handed to each hub in turn (a hub that does not
watch a channel ignores it at the cost of a dict lookup).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from realtime.broker import Broker, MessageHandler, create_broker

ReconnectHandler = Callable[[], Awaitable[None]]


class SharedBroker:
    """The real broker plus reference counts of the channels its views want."""

    def __init__(self, url: str | None) -> None:
        self._listeners: list[tuple[MessageHandler, ReconnectHandler]] = []
        self._wanted: dict[str, int] = {}
        self.broker: Broker = create_broker(url, self._on_message, self._on_reconnect)

    def view(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> BrokerView:
        """A broker for one more hub, whose handlers hear every message from now on."""
        self._listeners.append((on_message, on_reconnect))
        return BrokerView(self)

    async def _on_message(self, channel: str, message: bytes) -> None:
        for on_message, _ in self._listeners:
            await on_message(channel, message)

    async def _on_reconnect(self) -> None:
        for _, on_reconnect in self._listeners:
            await on_reconnect()

    async def _want(self, channel: str) -> None:
        self._wanted[channel] = self._wanted.get(channel, 0) + 1
        # Always asked, even when another view holds the channel: the real broker returns
        # only once the subscription is confirmed, which the caller's snapshot relies on.
        await self.broker.subscribe(channel)

    async def _release(self, channel: str) -> None:
        left = self._wanted.get(channel, 0) - 1
        if left > 0:
            self._wanted[channel] = left
            return
        self._wanted.pop(channel, None)
        await self.broker.unsubscribe(channel)


class BrokerView:
    """A :class:`realtime.broker.Broker` for one hub, over a :class:`SharedBroker`.

    Publishing, starting, stopping and pings go to the real broker; ``subscriptions`` are the
    real broker's (what the process hears). (Un)subscriptions are recorded before the first
    suspension, as the Broker contract asks.
    """

    __slots__ = ("_channels", "shared")

    def __init__(self, shared: SharedBroker) -> None:
        self.shared = shared
        self._channels: set[str] = set()

    async def start(self) -> None:
        await self.shared.broker.start()

    async def stop(self) -> None:
        await self.shared.broker.stop()

    async def publish(self, channel: str, message: bytes) -> None:
        await self.shared.broker.publish(channel, message)

    async def subscribe(self, channel: str) -> None:
        if channel in self._channels:
            await self.shared.broker.subscribe(channel)  # waits for a confirmation in flight
            return
        self._channels.add(channel)
        await self.shared._want(channel)

    async def unsubscribe(self, channel: str) -> None:
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        await self.shared._release(channel)

    async def ping(self) -> bool:
        return await self.shared.broker.ping()

    @property
    def subscriptions(self) -> frozenset[str]:
        return self.shared.broker.subscriptions

    @property
    def own_subscriptions(self) -> frozenset[str]:
        """The channels this view's hub wants."""
        return frozenset(self._channels)
