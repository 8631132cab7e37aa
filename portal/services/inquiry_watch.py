"""Live inquiries: a bell across processes, and breach detection on time without scanning.

:class:`InquiryBell` announces changed inquiry ids on a broker channel of its own
(``<PORTAL_INSTANCE>:inquiries``), heard by every portal process; the staff queue re-renders
from it. :class:`BreachWatcher` keeps each open inquiry's next due time in memory, read once on
start from the ``inquiries.next_due_at`` index and kept current by the bell, sleeps until the
next due time (or warning time) and then moves only the inquiries due. Several processes may
wake for the same breach: the SLA event's unique key records it once.

:func:`count_breaches` counts breaches in ``portal_sla_breaches_total``: a breach event is
inserted uncounted by whichever process records it, and a server claims it with one UPDATE
(each row claimed by one server only). Servers claim after their own commits that recorded a
breach, and in every watcher round, which a bell from `portal mail-in` or `portal dispatch`
starts at once (with Redis) or the round's timer within MAX_SLEEP (without): those processes
serve no /metrics, so what they record is counted by a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import col

from realtime.broker import BrokerUnavailable, create_broker

from ..db import Database
from ..domain.sla import SlaPolicy
from ..metrics import Metrics
from ..models import table_of
from ..models_inquiries import Inquiry, SlaEvent
from .inquiry_clock import breached_targets, refresh_clock

log = logging.getLogger(__name__)

Listener = Callable[[list[int]], Awaitable[None]]
MAX_SLEEP = 60.0


async def count_breaches(db: Database, metrics: Metrics) -> list[str]:
    """Claim every breach no process has counted yet and count it here; returns the targets.
    An indexed read first, so a round with nothing to count writes nothing."""
    pending = col(SlaEvent.counted) == sa.false()
    async with db.read() as session:
        found = await session.execute(select(col(SlaEvent.id)).where(pending).limit(1))
        if found.first() is None:
            return []
    events = table_of(SlaEvent)
    async with db.write() as session:
        claimed = await session.execute(
            sa.update(events)
            .where(events.c.counted == sa.false())
            .values(counted=True)
            .returning(events.c.target)
        )
        targets = [t or "" for t in claimed.scalars()]
    metrics.count_sla_breaches(targets)  # committed: this server alone holds these
    return targets


class InquiryBell:
    """Rings with inquiry ids after commit; every process's listeners hear it."""

    def __init__(self, redis_url: str | None, instance: str) -> None:
        self.instance = instance
        self.channel = f"{instance}:inquiries"
        self._broker = create_broker(redis_url, self._heard, self._reconnected)
        self._listeners: list[Listener] = []
        self._reconnect_listeners: list[Callable[[], Awaitable[None]]] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_reconnect(self, listener: Callable[[], Awaitable[None]]) -> None:
        self._reconnect_listeners.append(listener)

    async def start(self) -> None:
        await self._broker.start()
        await self._broker.subscribe(self.channel)

    async def stop(self) -> None:
        await self._broker.stop()

    async def ring(self, inquiry_ids: list[int]) -> None:
        ids = sorted(set(inquiry_ids))
        if not ids:
            return
        try:
            await self._broker.publish(self.channel, json.dumps({"inquiries": ids}).encode())
        except BrokerUnavailable:
            log.warning("broker unavailable: inquiries %s announced in this process only", ids)
            await self.tell_here(ids)

    async def tell_here(self, ids: list[int]) -> None:
        """Tell this process's listeners only (a warning time passing is seen by each)."""
        for listener in list(self._listeners):
            try:
                await listener(ids)
            except Exception:
                log.exception("inquiry listener failed")

    async def _heard(self, channel: str, message: bytes) -> None:
        try:
            ids = [int(i) for i in json.loads(message)["inquiries"]]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed inquiry bell message")
            return
        await self.tell_here(ids)

    async def _reconnected(self) -> None:
        for listener in list(self._reconnect_listeners):
            with contextlib.suppress(Exception):
                await listener()


class BreachWatcher:
    """Wakes at the next due (or warning) time held in memory; records breaches once."""

    def __init__(
        self,
        db: Database,
        policy: SlaPolicy,
        clock: Callable[[], datetime],
        bell: InquiryBell,
        metrics: Metrics,
        *,
        broker: Any = None,
    ) -> None:
        self.db = db
        self.broker = broker  # to ring the order screens of the inquiries moved
        self.policy = policy
        self.clock = clock
        self.bell = bell
        self.metrics = metrics
        self.due: dict[int, datetime] = {}
        self._warned: set[tuple[int, datetime]] = set()
        self._wake = asyncio.Event()
        self._reload = True
        bell.listen(self._on_bell)
        bell.on_reconnect(self._on_reconnect)

    async def load(self) -> None:
        """Read every running due time from the index (not the inquiries themselves)."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(col(Inquiry.id), col(Inquiry.next_due_at)).where(
                    col(Inquiry.next_due_at).is_not(None)
                )
            )
            self.due = {i: d for i, d in rows.all() if i is not None and d is not None}
        self._reload = False

    async def _on_bell(self, ids: list[int]) -> None:
        async with self.db.read() as session:
            rows = await session.execute(
                select(col(Inquiry.id), col(Inquiry.next_due_at)).where(col(Inquiry.id).in_(ids))
            )
            for inquiry_id, due in rows.all():
                if inquiry_id is None:
                    continue
                if due is None:
                    self.due.pop(inquiry_id, None)
                else:
                    self.due[inquiry_id] = due
        self._wake.set()

    async def _on_reconnect(self) -> None:
        self._reload = True  # bells may have been missed while the broker was away
        self._wake.set()

    def next_wake(self, now: datetime) -> datetime | None:
        warning = timedelta(minutes=self.policy.warning_minutes)
        times = [d for d in self.due.values()]
        times += [
            d - warning
            for i, d in self.due.items()
            if d - warning > now and (i, d) not in self._warned
        ]
        return min(times, default=None)

    async def run(self) -> None:
        while True:
            try:
                if self._reload:
                    await self.load()
                await self.tick()
                await count_breaches(self.db, self.metrics)  # also what other processes recorded
            except Exception:
                log.exception("breach watcher round failed")
                await asyncio.sleep(1.0)
            now = self.clock()
            wake = self.next_wake(now)
            delay = MAX_SLEEP if wake is None else (wake - now).total_seconds()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(max(delay, 0.0), MAX_SLEEP))

    async def tick(self) -> list[int]:
        """Handle everything due by now: breaches recorded (once), warnings told here."""
        now = self.clock()
        warning = timedelta(minutes=self.policy.warning_minutes)
        due = sorted(i for i, d in self.due.items() if d <= now)
        warned = [
            i for i, d in self.due.items() if d - warning <= now < d and (i, d) not in self._warned
        ]
        for i in warned:
            self._warned.add((i, self.due[i]))
        if warned:
            await self.bell.tell_here(warned)
        if due:
            await self.record_due(due, now)
        return due

    async def record_due(self, ids: list[int], now: datetime) -> int:
        """Move the clocks of these inquiries; returns the breaches this process recorded
        (claimed and counted once committed)."""
        breaches: list[str] = []
        async with self.db.write() as session:
            for inquiry_id in ids:
                inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
                if inquiry is None:
                    self.due.pop(inquiry_id, None)
                    continue
                moves = await refresh_clock(session, inquiry, self.policy, now)
                breaches += breached_targets(moves)
                if inquiry.next_due_at is None:
                    self.due.pop(inquiry_id, None)
                else:
                    self.due[inquiry_id] = inquiry.next_due_at
        if breaches:
            await count_breaches(self.db, self.metrics)
        await self.bell.ring(ids)
        if self.broker is not None:
            await self._ring_screens(ids)
        return len(breaches)

    async def _ring_screens(self, ids: list[int]) -> None:
        from .screen.bell import ring_orders

        async with self.db.read() as session:
            rows = await session.execute(
                select(col(Inquiry.order_id)).where(
                    col(Inquiry.id).in_(ids), col(Inquiry.order_id).is_not(None)
                )
            )
            order_ids = {i for (i,) in rows.all() if i is not None}
        with contextlib.suppress(Exception):
            await ring_orders(self.db, self.broker, self.bell.instance, order_ids)
