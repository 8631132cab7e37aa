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
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from realtime.admission import Admission, Busy
from realtime.broker import Broker
from realtime.eager import start_eagerly
from realtime.shared import SharedBroker

logger = logging.getLogger(__name__)

CLOSE_INTERNAL_ERROR = 1011
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
_LEFT = 0  # a member's ``closing`` once its own watch() ended: nothing left for the hub to close

_COUNTERS = (
    "frames",  # frames broadcast (each counted once, however many viewers)
    "duplicates",  # messages whose seq was already broadcast
    "gaps",  # messages that revealed a lost message, repaired from the source
    "repairs",  # increments(..., None) calls: gaps, reconnects, retries, overload
    "resyncs",  # topics queued for repair by on_reconnect
    "dropped_slow",  # viewers closed with 1013 because their backlog was full
    "send_failed",  # viewers removed because sending to them raised
    "errors",  # failed source calls (retried later)
    "ignored",  # messages for channels nobody here watches
    "snapshot_reads",  # source.snapshot calls (viewers sharing one read count once)
    "snapshots_shared",  # snapshots served from another viewer's read
    "refused_busy",  # viewers closed with 1013 at join: too many catch-up reads waiting
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One update as sent to sockets: ``data`` is a UTF-8 text frame (htmx HTML)."""

    seq: int
    data: bytes


class Source(Protocol):
    """Where frames come from; provided by the application (rendering from its database)."""

    def seq_of(self, topic: str, message: bytes) -> int:
        """The sequence number carried by a published message (a cheap parse)."""
        ...

    async def snapshot(self, topic: str) -> Frame:
        """The whole live region, rendered from the database, with the topic's latest seq."""
        ...

    async def increments(self, topic: str, after_seq: int, message: bytes | None) -> list[Frame]:
        """Frames after ``after_seq`` in seq order; ``message`` None means repair from the DB."""
        ...


class Viewer(Protocol):
    """One connected socket, as the hub sees it."""

    async def send(self, data: bytes) -> None:
        """Send one text frame."""
        ...

    async def close(self, code: int) -> None:
        """Close the socket with a WebSocket close code."""
        ...


class _Member:
    """One viewer inside the hub. Kept small: there may be 10,000 per process.

    A viewer that keeps up has no task of its own: a broadcast sends to it on the spot
    (:func:`start_eagerly`). Only a send that has to wait (the socket's buffer is full) makes
    a task, which then also sends whatever is queued behind it, in order.
    """

    __slots__ = ("backlog", "closing", "last_seq", "ready", "sender", "viewer")

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.backlog: deque[Frame] = deque()  # shared Frame objects, never copies
        self.last_seq = 0  # the newest seq this viewer has (its snapshot's, then each frame's)
        self.ready = False  # its snapshot is out: frames may go to it directly
        self.sender: asyncio.Task[None] | None = None  # sending a backlog, or a waiting send
        self.closing: int | None = None  # set when the hub let go of this viewer

    @property
    def busy(self) -> bool:
        """Frames for it must queue: its snapshot or an earlier frame is still on the way."""
        return not self.ready or self.sender is not None


class _Flight:
    """One read of a topic's snapshot that every viewer asking meanwhile waits for."""

    __slots__ = ("basis", "taken", "task")

    def __init__(self, basis: int, task: asyncio.Task[Frame]) -> None:
        self.basis = basis  # the topic's last broadcast seq when the read began: it has that
        self.task = task
        self.taken = 0.0  # loop time the read finished (set then)


class _Topic:
    __slots__ = (
        "channel",
        "flight",
        "inbox",
        "last_seq",
        "members",
        "name",
        "retry",
        "retry_delay",
        "worker",
    )

    def __init__(self, name: str, channel: str) -> None:
        self.name = name
        self.channel = channel
        self.members: set[_Member] = set()
        # None until the first snapshot gives a baseline; messages wait in the inbox until then.
        self.last_seq: int | None = None
        self.inbox: deque[bytes | None] = deque()  # None: repair from the source
        self.worker: asyncio.Task[None] | None = None
        self.retry: asyncio.TimerHandle | None = None
        self.retry_delay = 0.0
        # The newest snapshot read (in flight, or done and maybe still reusable).
        self.flight: _Flight | None = None


class Hub:
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
            elif len(member.backlog) >= limit:
                slow.append(member)
            else:
                member.backlog.extend(fresh)
        for member in slow:
            self._counts["dropped_slow"] += 1
            self._drop(topic, member, CLOSE_TRY_AGAIN_LATER)
        for member in failed:
            self._counts["send_failed"] += 1
            self._drop(topic, member, CLOSE_INTERNAL_ERROR)

    def _send_now(self, topic: _Topic, member: _Member, frames: list[Frame]) -> bool:
        """Send ``frames`` to an idle viewer from here; False if a send raised at once.

        A send that has to wait becomes the viewer's sender task, with the frames after it
        queued behind it.
        """
        for index, frame in enumerate(frames):
            if frame.seq <= member.last_seq:
                continue  # the snapshot already had it
            try:
                waiting = start_eagerly(member.viewer.send(frame.data))
            except Exception as exc:
                logger.debug("dropping a viewer of %r: send failed: %r", topic.name, exc)
                return False
            if waiting is not None:
                member.backlog.extend(frames[index + 1 :])
                sender = asyncio.create_task(self._drain(topic, member, waiting, frame.seq))
                # A sender cancelled before it first ran never awaited the waiting send, so
                # cancel that too: the socket must not get a frame after its close frame.
                sender.add_done_callback(partial(_cancel, waiting))
                member.sender = sender
                return True
            member.last_seq = frame.seq
        return True

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
                if member.backlog:  # frames broadcast while the snapshot was on its way
                    member.sender = asyncio.create_task(self._drain(entry, member, None, 0))
            else:
                await self._close_quietly(viewer, member.closing)
            yield
        finally:
            await self._leave(entry, member)

    async def _snapshot(self, entry: _Topic, topic: str, joined: int) -> tuple[int, bytes]:
        """A snapshot for a viewer that joined when ``joined`` was the newest seq broadcast
        (-1: none yet); it becomes the topic's baseline if it has none. Raises Busy."""
        snapshot = await self._shared_snapshot(entry, topic)
        if snapshot.seq < joined:
            # Older than a frame broadcast before this viewer joined (a store lagging behind
            # the broadcast), so the frames in between would never reach it: read again.
            if entry.flight is not None and entry.flight.task.done():
                entry.flight = None
            snapshot = await self._shared_snapshot(entry, topic)
        if entry.last_seq is None:
            entry.last_seq = snapshot.seq
            self._kick(entry)
        return snapshot.seq, snapshot.data

    async def _shared_snapshot(self, entry: _Topic, topic: str) -> Frame:
        """The snapshot of a read in flight or just done that has every frame broadcast so
        far, else of a new read (admitted first: Busy when too many wait)."""
        flight = entry.flight
        if flight is not None and self._usable(entry, flight):
            self._counts["snapshots_shared"] += 1
            return await asyncio.shield(flight.task)
        async with self._admission.slot():
            flight = entry.flight  # another viewer may have started one while this one waited
            if flight is not None and self._usable(entry, flight):
                self._counts["snapshots_shared"] += 1
            else:
                flight = self._start_read(entry, topic)
            return await asyncio.shield(flight.task)

    def _usable(self, entry: _Topic, flight: _Flight) -> bool:
        newest = -1 if entry.last_seq is None else entry.last_seq
        task = flight.task
        if not task.done():
            # One that began before a frame broadcast since may lack it.
            return flight.basis >= newest
        if task.cancelled() or task.exception() is not None:
            return False
        fresh = asyncio.get_running_loop().time() - flight.taken < self._snapshot_reuse
        return fresh and task.result().seq >= newest

    def _start_read(self, entry: _Topic, topic: str) -> _Flight:
        self._counts["snapshot_reads"] += 1
        basis = -1 if entry.last_seq is None else entry.last_seq
        flight = _Flight(basis, asyncio.create_task(self._source.snapshot(topic)))
        flight.task.add_done_callback(partial(self._read_done, entry, flight))
        entry.flight = flight
        return flight

    def _read_done(self, entry: _Topic, flight: _Flight, task: asyncio.Task[Frame]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here: every viewer waiting may have left meanwhile
        loop = asyncio.get_running_loop()
        flight.taken = loop.time()
        # A socket lives for hours; its topic need not hold the snapshot past its reuse.
        if self._snapshot_reuse > 0:
            loop.call_later(self._snapshot_reuse, _forget, entry, flight)
        else:
            _forget(entry, flight)

    async def _drain(
        self, topic: _Topic, member: _Member, waiting: asyncio.Task[None] | None, seq: int
    ) -> None:
        """The viewer's sender: finish the send ``waiting`` (of frame ``seq``), then send its
        backlog in order; gone again once the backlog is empty."""
        backlog = member.backlog
        try:
            if waiting is not None:
                await waiting
                member.last_seq = seq
            while backlog:
                frame = backlog.popleft()
                if frame.seq <= member.last_seq:
                    continue  # the snapshot already had it
                await member.viewer.send(frame.data)
                member.last_seq = frame.seq
        except Exception as exc:
            if member.closing is None:
                self._counts["send_failed"] += 1
                logger.debug("dropping a viewer of %r: send failed: %r", topic.name, exc)
                member.closing = CLOSE_INTERNAL_ERROR
                topic.members.discard(member)
                backlog.clear()
                await self._close_quietly(member.viewer, CLOSE_INTERNAL_ERROR)
        finally:
            member.sender = None

    def _drop(self, topic: _Topic, member: _Member, code: int) -> None:
        """Let go of ``member`` now and close its socket with ``code`` in the background."""
        if member.closing is not None:
            return
        member.closing = code
        topic.members.discard(member)
        member.backlog.clear()
        if not member.ready:
            return  # watch() is still sending the snapshot and will close it itself
        sender = member.sender
        if sender is not None:
            sender.cancel()  # it may be stuck in send() to this very (slow) socket
        self._spawn(self._close_after(sender, member.viewer, code))

    async def _close_after(
        self, sender: asyncio.Task[None] | None, viewer: Viewer, code: int
    ) -> None:
        if sender is not None:
            await asyncio.wait([sender])  # never two writers on one socket
        await self._close_quietly(viewer, code)

    async def _close_quietly(self, viewer: Viewer, code: int) -> None:
        try:
            async with asyncio.timeout(self._close_timeout):
                await viewer.close(code)
        except Exception as exc:
            # Already gone, or too stuck to take a close frame; its server side will time out.
            logger.debug("closing a viewer with %d failed: %r", code, exc)

    async def _leave(self, topic: _Topic, member: _Member) -> None:
        if member.closing is None:
            member.closing = _LEFT
        topic.members.discard(member)
        member.backlog.clear()
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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

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


def _cancel(task: asyncio.Task[None], _done: object) -> None:
    task.cancel()


def _forget(entry: _Topic, flight: _Flight) -> None:
    if entry.flight is flight:
        entry.flight = None


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
