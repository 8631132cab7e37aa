"""Hub behaviour on the in-process broker with a fake source and fake viewers."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from realtime.admission import Admission
from realtime.hub import Frame, Hub, create_hub
from realtime.memory import InProcessBroker
from tests.eventually import eventually
from tests.unit.realtime.realtime_fakes import FakeSource, FakeViewer


def channel_for(topic: str) -> str:
    return f"test:{topic}"


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
async def hub(source: FakeSource) -> AsyncIterator[Hub]:
    hub = create_hub(None, source, channel_for=channel_for, queue_limit=4)
    await hub.broker.start()
    yield hub
    await hub.close_all()
    await hub.broker.stop()


async def publish(hub: Hub, source: FakeSource, topic: str) -> bytes:
    """Commit an event for ``topic`` and publish it, like the service layer does."""
    message = source.commit(topic)
    await hub.broker.publish(channel_for(topic), message)
    return message


async def test_viewers_get_only_their_topic(hub: Hub, source: FakeSource) -> None:
    a, b = FakeViewer(), FakeViewer()
    async with hub.watch("A", a), hub.watch("B", b):
        await publish(hub, source, "A")
        await publish(hub, source, "B")
        await publish(hub, source, "A")
        await eventually(lambda: len(a.sent) == 3 and len(b.sent) == 2)
        await hub.wait_idle()
    assert a.texts == ["snapshot A @0", "A #1", "A #2"]
    assert b.texts == ["snapshot B @0", "B #1"]
    assert a.closed == b.closed == []


async def test_one_bytes_object_for_every_viewer_of_a_topic(hub: Hub, source: FakeSource) -> None:
    viewers = [FakeViewer() for _ in range(5)]
    async with contextlib.AsyncExitStack() as stack:
        for viewer in viewers:
            await stack.enter_async_context(hub.watch("A", viewer))
        await publish(hub, source, "A")
        await eventually(lambda: all(len(v.sent) == 2 for v in viewers))
    first = viewers[0].sent[1]
    assert all(v.sent[1] is first for v in viewers)
    assert len(source.increment_calls) == 1  # rendered once, not once per viewer
    assert hub.stats()["frames"] == 1


async def test_snapshot_first_then_increments(hub: Hub, source: FakeSource) -> None:
    source.commit("A")
    source.commit("A")  # history before the viewer came
    viewer = FakeViewer()
    async with hub.watch("A", viewer):
        assert viewer.texts == ["snapshot A @2"]
        message = await publish(hub, source, "A")
        await eventually(lambda: len(viewer.sent) == 2)
    assert viewer.texts == ["snapshot A @2", "A #3"]
    assert source.increment_calls == [("A", 2, message)]


async def test_duplicate_message_is_dropped(hub: Hub, source: FakeSource) -> None:
    viewer = FakeViewer()
    async with hub.watch("A", viewer):
        message = await publish(hub, source, "A")
        await hub.broker.publish(channel_for("A"), message)  # delivered twice
        await hub.wait_idle()
        await eventually(lambda: len(viewer.sent) == 2)
        await asyncio.sleep(0.01)
    assert viewer.texts == ["snapshot A @0", "A #1"]
    assert len(source.increment_calls) == 1
    assert hub.stats()["duplicates"] == 1


async def test_gap_is_repaired_from_the_source(hub: Hub, source: FakeSource) -> None:
    viewer = FakeViewer()
    async with hub.watch("A", viewer):
        source.commit("A")
        source.commit("A")  # two messages lost on the way
        await publish(hub, source, "A")
        await eventually(lambda: len(viewer.sent) == 4)
    assert viewer.texts == ["snapshot A @0", "A #1", "A #2", "A #3"]
    assert source.increment_calls == [("A", 0, None)]
    assert hub.stats()["gaps"] == 1


async def test_unreadable_message_triggers_a_repair(hub: Hub, source: FakeSource) -> None:
    viewer = FakeViewer()
    async with hub.watch("A", viewer):
        source.commit("A")
        await hub.broker.publish(channel_for("A"), b"garbage")
        await eventually(lambda: len(viewer.sent) == 2)
    assert source.increment_calls == [("A", 0, None)]


async def test_viewer_skips_frames_its_snapshot_had(hub: Hub, source: FakeSource) -> None:
    early, late = FakeViewer(), FakeViewer()
    async with hub.watch("A", early):
        source.snapshot_gate = asyncio.Event()
        joining = asyncio.create_task(_watch_until(hub, "A", late, stop := asyncio.Event()))
        await eventually(lambda: len(source.snapshot_calls) == 2)
        # Broadcast while the late viewer's snapshot is being read: queued for it...
        await publish(hub, source, "A")
        await publish(hub, source, "A")
        await hub.wait_idle()
        source.snapshot_gate.set()  # ...and its snapshot (read now) already has both.
        await eventually(lambda: len(late.sent) == 1 and len(early.sent) == 3)
        await publish(hub, source, "A")
        await eventually(lambda: len(late.sent) == 2 and len(early.sent) == 4)
        stop.set()
        await joining
    assert late.texts == ["snapshot A @2", "A #3"]
    assert early.texts == ["snapshot A @0", "A #1", "A #2", "A #3"]


async def _watch_until(hub: Hub, topic: str, viewer: FakeViewer, stop: asyncio.Event) -> None:
    async with hub.watch(topic, viewer):
        await stop.wait()


async def test_viewers_joining_during_a_read_share_it(hub: Hub, source: FakeSource) -> None:
    # A reconnect storm: many viewers of one order at once cost one read of the source.
    source.commit("A")
    gate = source.snapshot_gate = asyncio.Event()
    stop = asyncio.Event()
    viewers = [FakeViewer() for _ in range(20)]
    tasks = [asyncio.create_task(_watch_until(hub, "A", v, stop)) for v in viewers]
    await eventually(lambda: len(source.snapshot_calls) == 1)
    await asyncio.sleep(0.01)
    gate.set()
    await eventually(lambda: all(v.texts == ["snapshot A @1"] for v in viewers))
    assert source.snapshot_calls == ["A"]
    stats = hub.stats()
    assert (stats["snapshot_reads"], stats["snapshots_shared"]) == (1, 19)
    await publish(hub, source, "A")
    await eventually(lambda: all(v.texts == ["snapshot A @1", "A #2"] for v in viewers))
    stop.set()
    await asyncio.gather(*tasks)


async def test_a_read_begun_before_a_broadcast_is_not_shared_after_it(
    hub: Hub, source: FakeSource
) -> None:
    # The late viewer joins after frame 2 went out: a read that began before it may lack
    # frame 2, which will never be broadcast again, so the late viewer reads on its own.
    early, slow, late = FakeViewer(), FakeViewer(), FakeViewer()
    stop = asyncio.Event()
    async with hub.watch("A", early):
        await publish(hub, source, "A")
        await eventually(lambda: early.texts == ["snapshot A @0", "A #1"])
        gate = source.snapshot_gate = asyncio.Event()
        slow_task = asyncio.create_task(_watch_until(hub, "A", slow, stop))
        await eventually(lambda: len(source.snapshot_calls) == 2)
        await publish(hub, source, "A")
        await eventually(lambda: len(early.sent) == 3)
        source.snapshot_gate = None
        late_task = asyncio.create_task(_watch_until(hub, "A", late, stop))
        await eventually(lambda: late.texts == ["snapshot A @2"])
        assert slow.sent == []  # its read is still held up; the late one did not wait for it
        assert len(source.snapshot_calls) == 3
        gate.set()
        await eventually(lambda: slow.texts == ["snapshot A @2"])
        stop.set()
        await asyncio.gather(slow_task, late_task)


async def test_a_snapshot_older_than_a_frame_already_broadcast_is_read_again(
    hub: Hub, source: FakeSource
) -> None:
    # A store lagging behind the broadcast (a replica): the joining viewer would miss frame 1.
    first, joining = FakeViewer(), FakeViewer()
    async with hub.watch("A", first):
        await publish(hub, source, "A")
        await eventually(lambda: first.texts == ["snapshot A @0", "A #1"])
        original = source.snapshot

        async def old_then_current(topic: str) -> Frame:
            source.snapshot = original  # type: ignore[method-assign]
            return Frame(0, b"snapshot A @0 (stale)")

        source.snapshot = old_then_current  # type: ignore[method-assign]
        async with hub.watch("A", joining):
            assert joining.texts == ["snapshot A @1"]


async def test_a_snapshot_is_reused_only_while_nothing_newer_was_broadcast(
    source: FakeSource,
) -> None:
    hub = create_hub(None, source, channel_for=channel_for, snapshot_reuse=30.0)
    await hub.broker.start()
    try:
        stop = asyncio.Event()
        a, b, c = FakeViewer(), FakeViewer(), FakeViewer()
        task_a = asyncio.create_task(_watch_until(hub, "A", a, stop))
        await eventually(lambda: a.texts == ["snapshot A @0"])
        task_b = asyncio.create_task(_watch_until(hub, "A", b, stop))
        await eventually(lambda: b.texts == ["snapshot A @0"])
        assert source.snapshot_calls == ["A"]  # b reused a's snapshot
        await publish(hub, source, "A")
        await eventually(lambda: a.texts[-1:] == ["A #1"] and b.texts[-1:] == ["A #1"])
        task_c = asyncio.create_task(_watch_until(hub, "A", c, stop))
        await eventually(lambda: c.texts == ["snapshot A @1"])  # not the reused @0
        assert source.snapshot_calls == ["A", "A"]
        stop.set()
        await asyncio.gather(task_a, task_b, task_c)
    finally:
        await hub.close_all()
        await hub.broker.stop()


async def test_viewers_beyond_the_admission_queue_are_closed_with_1013(
    source: FakeSource,
) -> None:
    hub = create_hub(None, source, channel_for=channel_for, admission=Admission(1, 1))
    await hub.broker.start()
    try:
        gate = source.snapshot_gate = asyncio.Event()
        stop = asyncio.Event()
        reading, queued, refused = FakeViewer(), FakeViewer(), FakeViewer()
        tasks = [asyncio.create_task(_watch_until(hub, "A", reading, stop))]
        await eventually(lambda: len(source.snapshot_calls) == 1)
        tasks.append(asyncio.create_task(_watch_until(hub, "B", queued, stop)))
        await asyncio.sleep(0.01)
        async with hub.watch("C", refused):
            assert refused.closed == [1013] and refused.sent == []
        assert hub.stats()["refused_busy"] == 1
        assert hub.stats()["viewers"] == 2
        gate.set()
        await eventually(lambda: queued.texts == ["snapshot B @0"])
        retry = FakeViewer()  # the browser comes back: admitted now
        async with hub.watch("C", retry):
            assert retry.texts == ["snapshot C @0"]
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        await hub.close_all()
        await hub.broker.stop()


async def test_slow_viewer_is_closed_with_1013_and_others_still_receive(
    hub: Hub, source: FakeSource
) -> None:
    slow, fast = FakeViewer(stall_after=2), FakeViewer()  # slow stalls after snapshot + 1
    async with hub.watch("A", slow), hub.watch("A", fast):
        for _ in range(7):  # one in flight + queue_limit (4) + one too many
            await publish(hub, source, "A")
            await hub.wait_idle()
        await eventually(lambda: slow.closed == [1013])
        assert hub.stats()["dropped_slow"] == 1
        assert hub.stats()["viewers"] == 1
        await publish(hub, source, "A")
        await eventually(lambda: len(fast.sent) == 9)
    assert fast.texts[-1] == "A #8"
    assert fast.closed == []
    assert len(slow.sent) == 2  # the stalled send was abandoned, nothing after it


async def test_viewer_whose_send_fails_is_removed(hub: Hub, source: FakeSource) -> None:
    broken, fine = FakeViewer(fail_after=1), FakeViewer()
    async with hub.watch("A", broken), hub.watch("A", fine):
        await publish(hub, source, "A")
        await eventually(lambda: hub.stats()["viewers"] == 1)
        await publish(hub, source, "A")
        await eventually(lambda: len(fine.sent) == 3)
    assert hub.stats()["send_failed"] == 1
    assert broken.closed == [1011]
    assert fine.closed == []


async def test_leaving_after_an_exception_cleans_up(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with hub.watch("A", FakeViewer()):
            assert hub.broker.subscriptions == {"test:A"}
            raise RuntimeError("boom")
    assert hub.broker.subscriptions == frozenset()
    assert hub.stats()["topics"] == hub.stats()["viewers"] == 0


async def test_leaving_after_cancellation_cleans_up(hub: Hub) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(_watch_until(hub, "A", FakeViewer(), stop))
    await eventually(lambda: hub.stats()["viewers"] == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hub.broker.subscriptions == frozenset()
    assert hub.stats()["topics"] == hub.stats()["viewers"] == 0


async def test_failing_snapshot_cleans_up(hub: Hub, source: FakeSource) -> None:
    async def broken(topic: str) -> Frame:
        raise OSError("database down")

    source.snapshot = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="database down"):
        async with hub.watch("A", FakeViewer()):
            pytest.fail("the block must not run without a snapshot")
    assert hub.broker.subscriptions == frozenset()
    assert hub.stats()["topics"] == 0


async def test_last_viewer_leaving_unsubscribes(hub: Hub) -> None:
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_watch_until(hub, "A", FakeViewer(), stop_first))
    second = asyncio.create_task(_watch_until(hub, "A", FakeViewer(), stop_second))
    await eventually(lambda: hub.stats()["viewers"] == 2)
    assert hub.broker.subscriptions == {"test:A"}
    stop_first.set()
    await first
    assert hub.broker.subscriptions == {"test:A"}
    stop_second.set()
    await second
    assert hub.broker.subscriptions == frozenset()
    assert hub.stats()["topics"] == 0


async def test_close_all_closes_every_viewer_with_1012(hub: Hub, source: FakeSource) -> None:
    viewers = [FakeViewer(), FakeViewer(), FakeViewer()]
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_watch_until(hub, topic, viewer, stop))
        for topic, viewer in zip("AAB", viewers, strict=True)
    ]
    await eventually(lambda: all(v.sent for v in viewers))
    await hub.close_all()
    assert [v.closed for v in viewers] == [[1012], [1012], [1012]]
    assert hub.broker.subscriptions == frozenset()
    stop.set()
    await asyncio.gather(*tasks)
    late = FakeViewer()
    async with hub.watch("A", late):
        pass
    assert late.closed == [1012] and late.sent == []


async def test_close_all_during_a_snapshot_closes_after_it(hub: Hub, source: FakeSource) -> None:
    source.snapshot_gate = asyncio.Event()
    viewer, stop = FakeViewer(), asyncio.Event()
    task = asyncio.create_task(_watch_until(hub, "A", viewer, stop))
    await eventually(lambda: len(source.snapshot_calls) == 1)
    await hub.close_all()
    source.snapshot_gate.set()
    await eventually(lambda: viewer.closed == [1012])
    assert viewer.sent == []
    stop.set()
    await task


async def test_per_topic_order_under_concurrent_messages(source: FakeSource) -> None:
    hub = create_hub(None, source, channel_for=channel_for, queue_limit=64)
    await hub.broker.start()
    rng = random.Random(7)
    source.delay = lambda: rng.random() / 500  # source calls finish in scrambled order
    viewers = {topic: FakeViewer() for topic in "ABC"}
    async with (
        hub.watch("A", viewers["A"]),
        hub.watch("B", viewers["B"]),
        hub.watch("C", viewers["C"]),
    ):
        messages = [source.commit(topic) for _ in range(20) for topic in "ABC"]
        await asyncio.gather(*(hub.broker.publish(channel_for(m.decode()[0]), m) for m in messages))
        await eventually(lambda: all(len(v.sent) == 21 for v in viewers.values()))
    await hub.broker.stop()
    for topic, viewer in viewers.items():
        assert viewer.texts[1:] == [f"{topic} #{n}" for n in range(1, 21)]
        assert source.max_in_flight[topic] == 1  # never two source calls for one topic at once


async def test_slow_topic_does_not_hold_up_others(hub: Hub, source: FakeSource) -> None:
    a, b = FakeViewer(), FakeViewer()
    source.increment_gates["A"] = gate = asyncio.Event()
    async with hub.watch("A", a), hub.watch("B", b):
        await publish(hub, source, "A")
        await publish(hub, source, "A")
        await publish(hub, source, "B")
        await eventually(lambda: b.texts == ["snapshot B @0", "B #1"])
        assert a.texts == ["snapshot A @0"]
        gate.set()
        await eventually(lambda: len(a.sent) == 3)
    assert a.texts == ["snapshot A @0", "A #1", "A #2"]


async def test_on_reconnect_repairs_every_watched_topic(hub: Hub, source: FakeSource) -> None:
    a, b = FakeViewer(), FakeViewer()
    async with hub.watch("A", a), hub.watch("B", b):
        source.commit("A")  # published while the broker was down: lost
        await hub.on_reconnect()
        await eventually(lambda: len(a.sent) == 2)
        await hub.wait_idle()
    assert a.texts == ["snapshot A @0", "A #1"]
    assert b.texts == ["snapshot B @0"]
    assert sorted(source.increment_calls) == [("A", 0, None), ("B", 0, None)]
    assert hub.stats()["resyncs"] == 2


async def start_hub(source: FakeSource, **options: Any) -> Hub:
    """A hub with non-default options on its own in-process broker, wired by hand."""
    wired: list[Hub] = []
    broker = InProcessBroker(lambda channel, message: wired[0].on_message(channel, message))
    hub = Hub(broker, source, channel_for=channel_for, **options)
    wired.append(hub)
    await broker.start()
    return hub


async def test_failed_render_is_retried_from_the_source(source: FakeSource) -> None:
    hub = await start_hub(source, retry_initial=0.01)
    viewer = FakeViewer()
    source.fail_next_increments = 1
    async with hub.watch("A", viewer):
        await publish(hub, source, "A")
        await eventually(lambda: len(viewer.sent) == 2)
    assert viewer.texts == ["snapshot A @0", "A #1"]
    assert hub.stats()["errors"] == 1
    assert source.increment_calls[-1] == ("A", 0, None)
    await hub.broker.stop()


async def test_a_lagging_source_is_asked_again(source: FakeSource) -> None:
    hub = await start_hub(source, retry_initial=0.01)
    viewer = FakeViewer()
    source.lag_next_increments = 1
    async with hub.watch("A", viewer):
        await publish(hub, source, "A")
        await eventually(lambda: len(viewer.sent) == 2)
    assert viewer.texts == ["snapshot A @0", "A #1"]
    assert [call[2] is None for call in source.increment_calls] == [False, True]
    await hub.broker.stop()


async def test_flood_collapses_into_one_repair(source: FakeSource) -> None:
    hub = await start_hub(source, inbox_limit=3, queue_limit=64)
    viewer = FakeViewer()
    source.increment_gates["A"] = gate = asyncio.Event()
    async with hub.watch("A", viewer):
        for _ in range(10):
            await publish(hub, source, "A")
        gate.set()
        await eventually(lambda: len(viewer.sent) == 11)
        await hub.wait_idle()
    assert viewer.texts[1:] == [f"A #{n}" for n in range(1, 11)]
    assert len(source.increment_calls) <= 3
    await hub.broker.stop()


async def test_messages_for_unwatched_channels_are_ignored(hub: Hub) -> None:
    await hub.on_message("test:nobody", b"nobody|1")
    assert hub.stats()["ignored"] == 1


async def test_stats_names(hub: Hub) -> None:
    assert {"topics", "viewers", "dropped_slow", "duplicates", "gaps", "frames"} <= set(hub.stats())


async def test_a_viewer_that_keeps_up_has_each_frame_once_the_broadcast_is_done(
    hub: Hub, source: FakeSource
) -> None:
    viewers = [FakeViewer() for _ in range(3)]
    async with contextlib.AsyncExitStack() as stack:
        for viewer in viewers:
            await stack.enter_async_context(hub.watch("A", viewer))
        await publish(hub, source, "A")
        await hub.wait_idle()
        # Sent by the broadcast itself: no sender task had to be scheduled for it.
        assert [v.texts for v in viewers] == [["snapshot A @0", "A #1"]] * 3


async def test_a_viewer_that_stalls_briefly_gets_its_backlog_in_order(
    hub: Hub, source: FakeSource
) -> None:
    stalling, steady = FakeViewer(stall_after=2), FakeViewer()
    async with hub.watch("A", stalling), hub.watch("A", steady):
        for _ in range(4):  # one waiting send and three queued: within the limit (4)
            await publish(hub, source, "A")
            await hub.wait_idle()
        assert steady.texts[1:] == ["A #1", "A #2", "A #3", "A #4"]
        assert stalling.texts[1:] == ["A #1"]
        stalling.unstall.set()
        await eventually(lambda: len(stalling.sent) == 5)
        await publish(hub, source, "A")  # caught up: sent directly again
        await hub.wait_idle()
        await eventually(lambda: len(stalling.sent) == 6)
    assert stalling.texts[1:] == ["A #1", "A #2", "A #3", "A #4", "A #5"]
    assert stalling.closed == [] and hub.stats()["dropped_slow"] == 0


async def test_frames_broadcast_while_the_snapshot_is_sent_follow_it_in_order(
    hub: Hub, source: FakeSource
) -> None:
    early, late, stop = FakeViewer(), FakeViewer(stall_after=0), asyncio.Event()
    async with hub.watch("A", early):
        joining = asyncio.create_task(_watch_until(hub, "A", late, stop))
        await eventually(lambda: len(source.snapshot_calls) == 2)  # its snapshot send stalls
        await publish(hub, source, "A")
        await publish(hub, source, "A")
        await hub.wait_idle()
        assert early.texts[1:] == ["A #1", "A #2"] and late.sent == []
        late.unstall.set()
        await eventually(lambda: len(late.sent) == 3)
        await publish(hub, source, "A")
        await eventually(lambda: len(late.sent) == 4)
        stop.set()
        await joining
    assert late.texts == ["snapshot A @0", "A #1", "A #2", "A #3"]


async def test_a_send_failing_after_a_wait_removes_the_viewer(hub: Hub, source: FakeSource) -> None:
    flaky, fine = FakeViewer(stall_after=2, fail_after=3), FakeViewer()
    async with hub.watch("A", flaky), hub.watch("A", fine):
        for _ in range(3):  # #2 waits, #3 queues behind it and then fails
            await publish(hub, source, "A")
            await hub.wait_idle()
        flaky.unstall.set()
        await eventually(lambda: flaky.closed == [1011])
        assert hub.stats()["viewers"] == 1 and hub.stats()["send_failed"] == 1
        await publish(hub, source, "A")
        await eventually(lambda: len(fine.sent) == 5)
    assert flaky.texts[1:] == ["A #1", "A #2"]


async def test_a_viewer_dropped_before_its_sender_ran_has_its_waiting_send_cancelled(
    hub: Hub, source: FakeSource
) -> None:
    class ClosesTheHubWhileStalled(FakeViewer):
        cancelled = False
        closing: asyncio.Task[None] | None = None

        async def send(self, data: bytes) -> None:
            if not self.sent:
                self.sent.append(data)  # the snapshot
                return
            # Runs inside the broadcast: close_all's first step is scheduled before the
            # sender task the hub makes once this send waits, so it cancels that sender
            # before it ever ran.
            self.closing = asyncio.ensure_future(hub.close_all())
            try:
                await self.unstall.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            self.sent.append(data)

    viewer = ClosesTheHubWhileStalled()
    stop = asyncio.Event()
    watching = asyncio.create_task(_watch_until(hub, "A", viewer, stop))
    await eventually(lambda: len(viewer.sent) == 1)
    await publish(hub, source, "A")
    await eventually(lambda: viewer.closed == [1012])
    await eventually(lambda: viewer.cancelled)
    viewer.unstall.set()
    await asyncio.sleep(0.01)
    assert viewer.texts == ["snapshot A @0"]  # nothing after the close
    assert viewer.closing is not None
    await viewer.closing
    stop.set()
    await watching
