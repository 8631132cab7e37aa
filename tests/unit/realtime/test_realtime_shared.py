"""Two hubs over one broker: one subscription per channel, every message heard by both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from realtime.follower import create_follower_hub
from realtime.hub import Hub, create_hub
from realtime.memory import InProcessBroker
from tests.eventually import eventually
from tests.unit.realtime.realtime_fakes import FakeSource, FakeViewer


def channel_for(topic: str) -> str:
    return f"test:{topic}"


@pytest.fixture
async def hubs() -> AsyncIterator[tuple[Hub, Hub, FakeSource, FakeSource]]:
    first, second = FakeSource(), FakeSource()
    leader = create_hub(None, first, channel_for=channel_for, queue_limit=4)
    follower = create_follower_hub(leader, second, channel_for=channel_for, queue_limit=4)
    await leader.broker.start()
    yield leader, follower, first, second
    await follower.close_all()
    await leader.close_all()
    await leader.broker.stop()


async def test_both_hubs_hear_one_publish(hubs: tuple[Hub, Hub, FakeSource, FakeSource]) -> None:
    leader, follower, first, second = hubs
    a, b = FakeViewer(), FakeViewer()
    async with leader.watch("A", a), follower.watch("A", b):
        assert isinstance(leader.broker.shared.broker, InProcessBroker)  # type: ignore[attr-defined]
        assert leader.broker.subscriptions == {"test:A"}
        message = first.commit("A")
        second.commit("A")
        await leader.broker.publish("test:A", message)
        await eventually(lambda: len(a.sent) == 2 and len(b.sent) == 2)
    assert a.texts == ["snapshot A @0", "A #1"]
    assert b.texts == ["snapshot A @0", "A #1"]


async def test_channel_kept_while_either_hub_watches(
    hubs: tuple[Hub, Hub, FakeSource, FakeSource],
) -> None:
    leader, follower, first, _ = hubs
    async with follower.watch("A", FakeViewer()):
        async with leader.watch("A", FakeViewer()):
            assert leader.broker.subscriptions == {"test:A"}
        # The leader's last viewer left; the follower still needs the channel.
        assert leader.broker.subscriptions == {"test:A"}
        late = FakeViewer()
        async with leader.watch("A", late):
            await leader.broker.publish("test:A", first.commit("A"))
            await eventually(lambda: len(late.sent) == 2)
    assert leader.broker.subscriptions == frozenset()


async def test_follower_needs_a_leader_from_create_hub() -> None:
    async def ignore(channel: str, message: bytes) -> None:
        return None

    plain = Hub(InProcessBroker(ignore), FakeSource(), channel_for=channel_for)
    with pytest.raises(TypeError):
        create_follower_hub(plain, FakeSource(), channel_for=channel_for)
