"""Audit findings kept over time: first and last seen, resolved when a run no longer sees them.

The scheduled audit (:class:`AuditSchedule`) runs ``audit_all`` once per PORTAL_AUDIT_INTERVAL
across every process (a lease in ``scheduled_runs``) and records what it found here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Order, table_of
from ..models_records import AuditFinding
from . import leases
from .audit import audit_all

log = logging.getLogger(__name__)

JOB = "audit"
# A run that takes longer than this is presumed dead, and another process may start one.
LEASE = timedelta(minutes=15)
FINDINGS, ORDERS = table_of(AuditFinding), table_of(Order)


def finding_key(order_number: str, problem: str) -> str:
    """Pure: what identifies a finding from one run to the next."""
    return hashlib.sha256(f"{order_number}\n{problem}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reconciled:
    new: list[dict[str, str]]  # findings no open row has: to insert
    seen_again: list[int]  # open rows found again: last seen now
    resolved: list[int]  # open rows this run did not find: resolved now


def reconcile(open_rows: Mapping[str, int], found: Iterable[Mapping[str, str]]) -> Reconciled:
    """Pure: compare a run's findings with the open rows (key -> row id)."""
    new: dict[str, dict[str, str]] = {}
    again: set[int] = set()
    for finding in found:
        key = finding_key(finding["order_number"], finding["problem"])
        if key in open_rows:
            again.add(open_rows[key])
        else:
            new.setdefault(key, {**finding, "key": key})
    resolved = sorted(set(open_rows.values()) - again)
    return Reconciled(list(new.values()), sorted(again), resolved)


def _chunks(ids: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


async def record_findings(
    session: AsyncSession, found: list[dict[str, str]], *, now: datetime
) -> Reconciled:
    """Apply one run's findings in the caller's transaction."""
    rows = await session.execute(
        sa.select(FINDINGS.c.key, FINDINGS.c.id).where(FINDINGS.c.resolved_at.is_(None))
    )
    changes = reconcile({key: row_id for key, row_id in rows.all()}, found)
    for ids in _chunks(changes.seen_again):
        await session.execute(
            sa.update(FINDINGS).where(FINDINGS.c.id.in_(ids)).values(last_seen_at=now)
        )
    for ids in _chunks(changes.resolved):
        await session.execute(
            sa.update(FINDINGS).where(FINDINGS.c.id.in_(ids)).values(resolved_at=now)
        )
    numbers = sorted({f["order_number"] for f in changes.new})
    order_ids: dict[str, int] = {}
    for chunk in _chunks(numbers):
        stmt = sa.select(ORDERS.c.order_number, ORDERS.c.id).where(ORDERS.c.order_number.in_(chunk))
        order_ids.update({number: oid for number, oid in (await session.execute(stmt)).all()})
    if changes.new:
        await session.execute(
            sa.insert(FINDINGS),
            [
                {
                    "key": f["key"],
                    "order_id": order_ids.get(f["order_number"]),
                    "order_number": f["order_number"],
                    "problem": f["problem"],
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "resolved_at": None,
                }
                for f in changes.new
            ],
        )
    return changes


async def open_count(session: AsyncSession) -> int:
    stmt = sa.select(sa.func.count()).select_from(FINDINGS).where(FINDINGS.c.resolved_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())


async def list_findings(session: AsyncSession, *, resolved_limit: int = 50) -> dict[str, Any]:
    """Open findings (oldest first) and the most recently resolved ones, for the console."""
    open_rows = await session.execute(
        sa.select(AuditFinding)
        .where(FINDINGS.c.resolved_at.is_(None))
        .order_by(FINDINGS.c.first_seen_at, FINDINGS.c.id)
    )
    resolved_rows = await session.execute(
        sa.select(AuditFinding)
        .where(FINDINGS.c.resolved_at.is_not(None))
        .order_by(FINDINGS.c.resolved_at.desc(), FINDINGS.c.id.desc())
        .limit(resolved_limit)
    )
    return {
        "open": list(open_rows.scalars()),
        "resolved": list(resolved_rows.scalars()),
        "last_run": await leases.last_run(session, JOB),
    }


class AuditSchedule:
    """The server's scheduled audit: checks every ``poll`` seconds whether a run is due."""

    def __init__(self, runtime: Any, interval: float) -> None:
        self.runtime = runtime
        self.interval = timedelta(seconds=interval)
        self.poll = min(60.0, max(0.05, interval / 4))
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def tick(self) -> bool:
        """Run the audit if it is due and no other process runs it; True if this one did."""
        runtime = self.runtime
        started = runtime.clock()
        if not await leases.try_start(
            runtime.db, JOB, self.holder, interval=self.interval, lease=LEASE, now=started
        ):
            await self.refresh_gauge()
            return False
        result = "failed"
        try:
            found = await audit_all(runtime.db, runtime.notifier.rules, started)
            async with runtime.db.write() as session:
                changes = await record_findings(session, found, now=started)
            result = f"{len(found)} found: {len(changes.new)} new, {len(changes.resolved)} resolved"
            log.info("scheduled audit: %s", result)
        finally:
            await leases.finish(runtime.db, JOB, self.holder, now=runtime.clock(), result=result)
        await self.refresh_gauge()
        return True

    async def refresh_gauge(self) -> None:
        async with self.runtime.db.read() as session:
            self.runtime.metrics.audit_findings.set(await open_count(session))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.tick()
            except Exception:
                log.exception("scheduled audit failed")
