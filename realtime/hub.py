"""The per-process hub: groups viewers by topic and renders each update once for all of them.

Flow for one topic (say, one order):

- The first viewer subscribes the topic's broker channel, *then* takes a snapshot, so anything
  committed after the snapshot rings the doorbell. Every viewer gets a snapshot first.
- Snapshots are shared: viewers joining a topic at the same moment wait for one read of the
  source (single flight), and a snapshot stays reusable for ``snapshot_reuse`` seconds while
  nothing newer has been broadcast on its topic. A viewer never gets a snapshot older than a
  frame broadcast before it joined (it would miss that frame); it reads again instead.
- New reads of the source are admitted by an :class:`realtime.admission.Admission`: a viewer
  that would wait behind too many others is closed with 1013 (try again later).
- Each published message carries a sequence number. The hub keeps the topic's last broadcast
  ``seq``: an older or equal one is a duplicate and dropped, the next one is rendered from the
  message, a jump (a message lost by pub/sub) is repaired from the source, i.e. the database.
- A frame is produced once and the same :class:`Frame` object goes to every viewer: sent on
  the spot to a viewer that has nothing on the way, else queued in its bounded backlog behind
  the send that is waiting; a viewer skips frames its snapshot already had. A viewer whose
  backlog is full when a broadcast arrives is closed with 1013 so its browser comes back to a
  fresh snapshot (one broadcast may carry several frames: taken or refused together).
- Messages for one topic are processed one at a time, in order, by a short-lived worker task;
  different topics have different workers, so a slow database call holds up only its topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from realtime.admission import Admission, Busy
from realtime.broker import Broker
from realtime.hub_delivery import Delivery
from realtime.hub_parts import (
    _COUNTERS,
    _LEFT,
    CLOSE_INTERNAL_ERROR,
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    Frame,
    Source,
    Viewer,
    _Member,
    _Topic,
)
from realtime.hub_snapshots import SnapshotReads
from realtime.shared import SharedBroker

__all__ = [
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_SERVICE_RESTART",
    "CLOSE_TRY_AGAIN_LATER",
    "Frame",
    "Hub",
    "Source",
    "Viewer",
    "create_hub",
]

logger = logging.getLogger(__name__)


class Hub(Delivery, SnapshotReads):
    """Fan-out of one process: see the module docstring for the rules.

    Wire ``on_message``/``on_reconnect`` as the broker's handlers (or use :func:`create_hub`).
    """

    def __init__(
        self,
        broker: Broker,
        source: Source,
        *,
        channel_for: Callable[[str], str],
        queue_limit: int = 32,
        inbox_limit: int = 64,
        close_timeout: float = 5.0,
        retry_initial: float = 1.0,
        retry_max: float = 30.0,
        snapshot_reuse: float = 0.0,
        admission: Admission | None = None,
    ) -> None:
        if queue_limit < 1 or inbox_limit < 1:
            raise ValueError("queue_limit and inbox_limit must be at least 1")
        if snapshot_reuse < 0:
            raise ValueError("snapshot_reuse must be >= 0")
        self._broker = broker
        self._source = source
        self._channel_for = channel_for
        self._queue_limit = queue_limit
        self._inbox_limit = inbox_limit
        self._close_timeout = close_timeout
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._snapshot_reuse = snapshot_reuse
        self._admission = admission or Admission(limit=1_000_000, queue=0)
        self._topics: dict[str, _Topic] = {}  # by channel
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._background: set[asyncio.Task[None]] = set()
        self._closed_with: int | None = None

    @property
    def broker(self) -> Broker:
        """The broker this hub subscribes through (the portal publishes and pings with it)."""
        return self._broker

    # -- broker side ---------------------------------------------------------------------

    async def on_message(self, channel: str, message: bytes) -> None:
        """Broker handler: queue ``message`` for its topic and return at once."""
        topic = self._topics.get(channel)
        if topic is None:
            self._counts["ignored"] += 1
            return
        self._enqueue(topic, message)

    async def on_reconnect(self) -> None:
        """Broker handler: messages may have been lost, so repair every watched topic."""
        for topic in self._topics.values():
            self._counts["resyncs"] += 1
            self._enqueue(topic, None)

    def _enqueue(self, topic: _Topic, item: bytes | None) -> None:
        inbox = topic.inbox
        if len(inbox) >= self._inbox_limit:
            # Far behind: a single repair from the source covers everything queued.
            inbox.clear()
            inbox.append(None)
        elif item is not None or None not in inbox:
            # A queued repair reads the source when it runs, so it covers a later request too.
            inbox.append(item)
        self._kick(topic)

    def _kick(self, topic: _Topic) -> None:
        if topic.worker is None and topic.last_seq is not None and topic.inbox:
            topic.worker = asyncio.create_task(self._work(topic), name=f"hub:{topic.name}")

    async def _work(self, topic: _Topic) -> None:
        try:
            while topic.inbox:
                item = topic.inbox.popleft()
                try:
                    await self._process(topic, item)
                except Exception:
                    self._counts["errors"] += 1
                    logger.exception("could not render an update for topic %r", topic.name)
                    self._retry_later(topic)
                else:
                    topic.retry_delay = 0.0
        finally:
            topic.worker = None

    async def _process(self, topic: _Topic, message: bytes | None) -> None:
        last = topic.last_seq
        assert last is not None  # workers start only once the baseline is known
        seq: int | None = None
        if message is not None:
            try:
                seq = self._source.seq_of(topic.name, message)
            except Exception:
                # Pub/sub is only the doorbell: an unreadable ring still means "look".
                logger.warning("unreadable message on topic %r; repairing", topic.name)
                seq = None
            if seq is not None and seq <= last:
                self._counts["duplicates"] += 1
                return
            if seq != last + 1:
                self._counts["gaps"] += 1
                message = None
        if message is None:
            self._counts["repairs"] += 1
        frames = await self._source.increments(topic.name, last, message)
        if self._topics.get(topic.channel) is not topic:
            return  # everyone left meanwhile
        self._broadcast(topic, frames)
        if seq is not None and (topic.last_seq or 0) < seq:
            # The store does not show what the message announced yet (a lagging read
            # replica?): look again shortly rather than wait for the next message.
            self._retry_later(topic)

    def _broadcast(self, topic: _Topic, frames: list[Frame]) -> None:
        fresh: list[Frame] = []
        for frame in frames:
            if topic.last_seq is not None and frame.seq <= topic.last_seq:
                continue  # each seq goes out once
            topic.last_seq = frame.seq
            fresh.append(frame)
        if not fresh:
            return
        self._counts["frames"] += len(fresh)
        # One decision per broadcast, not per frame: a repair that renders several events at
        # once (events committed while the previous one was rendered, or after an outage) must
        # not look like a slow consumer to a viewer that had nothing queued.
        limit = self._queue_limit
        slow: list[_Member] = []
        failed: list[_Member] = []
        for member in topic.members:
            if not member.busy:
                if not self._send_now(topic, member, fresh):
                    failed.append(member)
            elif member.queued() >= limit:
                slow.append(member)
            else:
                member.queue(fresh)
        for member in slow:
            self._counts["dropped_slow"] += 1
            self._drop(topic, member, CLOSE_TRY_AGAIN_LATER)
        for member in failed:
            self._counts["send_failed"] += 1
            self._drop(topic, member, CLOSE_INTERNAL_ERROR)

    def _retry_later(self, topic: _Topic) -> None:
        if topic.retry is not None:
            return
        delay = min(self._retry_max, max(self._retry_initial, topic.retry_delay * 2))
        topic.retry_delay = delay
        topic.retry = asyncio.get_running_loop().call_later(delay, self._retry_now, topic)

    def _retry_now(self, topic: _Topic) -> None:
        topic.retry = None
        if self._topics.get(topic.channel) is topic:
            self._enqueue(topic, None)

    # -- viewer side ---------------------------------------------------------------------

    @asynccontextmanager
    async def watch(self, topic: str, viewer: Viewer) -> AsyncIterator[None]:
        """Join ``viewer`` to ``topic`` for the duration of the ``async with`` block.

        On entry: subscribe (if first), send the snapshot, start sending increments. On exit,
        whatever the reason (normal, exception, cancellation): leave, and unsubscribe if last.
        Exceptions from the subscription or the snapshot propagate from the ``async with``.
        """
        if self._closed_with is not None:
            await self._close_quietly(viewer, self._closed_with)
            yield
            return
        channel = self._channel_for(topic)
        entry = self._topics.get(channel)
        if entry is None:
            entry = self._topics[channel] = _Topic(topic, channel)
        member = _Member(viewer)
        # Joined before the snapshot is read, so frames broadcast meanwhile are queued (and
        # skipped later if the snapshot had them) rather than missed.
        entry.members.add(member)
        joined = -1 if entry.last_seq is None else entry.last_seq  # broadcast before it joined
        try:
            await self._broker.subscribe(channel)
            try:
                seq, data = await self._snapshot(entry, topic, joined)
            except Busy:
                self._counts["refused_busy"] += 1
                member.closing = CLOSE_TRY_AGAIN_LATER
                entry.members.discard(member)
                await self._close_quietly(viewer, CLOSE_TRY_AGAIN_LATER)
                yield
                return
            if member.closing is None:
                await viewer.send(data)
                member.last_seq = seq
            del data  # a socket lives for hours: its snapshot need not
            # No await between this check and becoming ready: _drop relies on it.
            if member.closing is None:
                member.ready = True
                if member.queued():  # frames broadcast while the snapshot was on its way
                    member.sender = asyncio.create_task(self._drain(entry, member, None, 0))
            else:
                await self._close_quietly(viewer, member.closing)
            yield
        finally:
            await self._leave(entry, member)

    async def _leave(self, topic: _Topic, member: _Member) -> None:
        if member.closing is None:
            member.closing = _LEFT
        topic.members.discard(member)
        member.backlog = None
        sender = member.sender
        if sender is not None:
            sender.cancel()
        last_out = not topic.members and self._topics.get(topic.channel) is topic
        if last_out:
            del self._topics[topic.channel]
            self._retire(topic)
            # The first await here: brokers record (un)subscriptions before they suspend, so
            # a viewer joining right now and subscribing again is ordered after this.
            try:
                await self._broker.unsubscribe(topic.channel)
            except Exception:
                logger.warning("could not unsubscribe %r", topic.channel, exc_info=True)
        if sender is not None:
            await asyncio.wait([sender])

    def _retire(self, topic: _Topic) -> None:
        if topic.worker is not None:
            topic.worker.cancel()
        if topic.retry is not None:
            topic.retry.cancel()
            topic.retry = None
        topic.inbox.clear()

    # -- whole hub -------------------------------------------------------------------------

    async def close_all(self, code: int = CLOSE_SERVICE_RESTART) -> None:
        """Graceful shutdown: close every viewer with ``code`` (1012: service restart), drop
        every subscription, and refuse later joins the same way."""
        self._closed_with = code
        topics = list(self._topics.values())
        self._topics.clear()
        for topic in topics:
            self._retire(topic)
            for member in list(topic.members):
                self._drop(topic, member, code)
        for topic in topics:
            try:
                await self._broker.unsubscribe(topic.channel)
            except Exception:
                logger.warning("could not unsubscribe %r", topic.channel, exc_info=True)
        if self._background:
            await asyncio.wait(set(self._background))

    async def wait_idle(self) -> None:
        """Wait until every message received so far has been processed (for tests, shutdown)."""
        while True:
            workers = [t.worker for t in self._topics.values() if t.worker is not None]
            if not workers:
                return
            await asyncio.wait(workers)

    def stats(self) -> dict[str, int]:
        """Gauges (``topics``, ``viewers``) and counters since start, for /metrics."""
        counts = dict(self._counts)
        counts["topics"] = len(self._topics)
        counts["viewers"] = sum(len(topic.members) for topic in self._topics.values())
        return counts


def create_hub(
    url: str | None,
    source: Source,
    *,
    channel_for: Callable[[str], str],
    queue_limit: int = 32,
    snapshot_reuse: float = 0.0,
    admission: Admission | None = None,
) -> Hub:
    """Build a broker from ``url`` and a hub wired to it; ``hub.broker`` is the broker.

    Solves the chicken-and-egg (the hub needs the broker, the broker needs the hub's handlers)
    with handlers that look the hub up when called. Start with ``await hub.broker.start()``.
    The broker is shared: :func:`realtime.follower.create_follower_hub` adds hubs that hear it.
    """

    async def on_message(channel: str, message: bytes) -> None:
        await hub.on_message(channel, message)

    async def on_reconnect() -> None:
        await hub.on_reconnect()

    shared = SharedBroker(url)
    hub = Hub(
        shared.view(on_message, on_reconnect),
        source,
        channel_for=channel_for,
        queue_limit=queue_limit,
        snapshot_reuse=snapshot_reuse,
        admission=admission,
    )
    return hub
