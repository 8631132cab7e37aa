"""A hub that follows another over the same broker subscription (see realtime.shared)."""

from __future__ import annotations

from collections.abc import Callable

from realtime.hub import Hub, Source
from realtime.shared import BrokerView


def create_follower_hub(
    leader: Hub,
    source: Source,
    *,
    channel_for: Callable[[str], str],
    queue_limit: int = 32,
) -> Hub:
    """Another hub over ``leader``'s broker (made by :func:`create_hub`): one subscription per
    channel for both, every message heard by both, each rendering its own frames."""
    view = leader.broker
    if not isinstance(view, BrokerView):
        raise TypeError("the leader hub must come from create_hub")

    async def on_message(channel: str, message: bytes) -> None:
        await hub.on_message(channel, message)

    async def on_reconnect() -> None:
        await hub.on_reconnect()

    hub = Hub(
        view.shared.view(on_message, on_reconnect),
        source,
        channel_for=channel_for,
        queue_limit=queue_limit,
    )
    return hub
