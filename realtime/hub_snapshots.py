"""Shared snapshot reads for :class:`realtime.hub.Hub` (single flight, reuse, admission).

Viewers joining a topic at the same moment wait for one read of the source, and a snapshot
stays reusable for ``snapshot_reuse`` seconds while nothing newer has been broadcast on its
topic. A viewer never gets a snapshot older than a frame broadcast before it joined (it would
miss that frame); it reads again instead. New reads are admitted by an
:class:`realtime.admission.Admission` (:class:`realtime.admission.Busy` when too many wait).
"""

from __future__ import annotations

import asyncio
from functools import partial

from realtime.admission import Admission
from realtime.hub_parts import Frame, Source, _Flight, _forget, _Topic


class SnapshotReads:
    """The hub's snapshot half (a mixin: :class:`realtime.hub.Hub` sets these attributes)."""

    _source: Source
    _admission: Admission
    _snapshot_reuse: float
    _counts: dict[str, int]

    def _kick(self, topic: _Topic) -> None:
        raise NotImplementedError

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
