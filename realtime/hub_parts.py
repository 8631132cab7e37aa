"""The hub's pieces: what it sends (:class:`Frame`), what it asks (:class:`Source`), whom it
sends to (:class:`Viewer`), and its own per-viewer and per-topic records (see realtime.hub)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Protocol

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
        # Shared Frame objects, never copies; None while empty (an empty deque is ~760 bytes,
        # and most viewers never have anything queued).
        self.backlog: deque[Frame] | None = None
        self.last_seq = 0  # the newest seq this viewer has (its snapshot's, then each frame's)
        self.ready = False  # its snapshot is out: frames may go to it directly
        self.sender: asyncio.Task[None] | None = None  # sending a backlog, or a waiting send
        self.closing: int | None = None  # set when the hub let go of this viewer

    def queued(self) -> int:
        return 0 if self.backlog is None else len(self.backlog)

    def queue(self, frames: list[Frame]) -> None:
        if self.backlog is None:
            self.backlog = deque(frames)
        else:
            self.backlog.extend(frames)

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


def _cancel(task: asyncio.Task[None], _done: object) -> None:
    task.cancel()


def _forget(entry: _Topic, flight: _Flight) -> None:
    if entry.flight is flight:
        entry.flight = None
