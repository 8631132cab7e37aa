"""`portal audit`: do orders and their notifications agree? And has every notice about no
order (an answer to an unmatched inquiry) gone out?"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..db import Database
from ..domain.status import OrderStatus
from ..models import Delay, Notification, Order, Shipment
from ..notify.kinds import DELAYED, RETRYABLE_STATES, Milestone, NotificationState
from ..notify.rules import Contact, Rules, idempotency_key, plan
from .outbox import customer_prefs

S, N = OrderStatus, NotificationState
STUCK_AFTER = timedelta(hours=1)
# A notice that says more than the order: e.g. "delivered" sent while the order is not.
# Each milestone lists the statuses at or after it; a parcel refused at the door goes back
# to the shop, so "returned" follows "out for delivery" without making its notice untrue.
_CLAIMS: dict[str, frozenset[OrderStatus]] = {
    S.DELIVERED: frozenset({S.DELIVERED}),
    S.OUT_FOR_DELIVERY: frozenset(
        {S.OUT_FOR_DELIVERY, S.AVAILABLE_FOR_PICKUP, S.DELIVERED, S.RETURNED}
    ),
}


def _expected(
    order: Order, shipments: Iterable[Shipment], delays: Iterable[Delay], rules: Rules
) -> dict[str, str]:
    """Idempotency key -> description of every notice the rules say this order should have."""
    prefs = customer_prefs(order)
    contact = Contact(order.customer_email, order.customer_phone)
    wanted: list[tuple[Milestone, str | None]] = [(S.PLACED, None)]
    wanted += [(S.SHIPPED, f"shipment-{s.id}") for s in shipments]
    wanted += [(DELAYED, f"delay-{d.id}") for d in delays]
    if order.status == S.DELIVERED:
        wanted.append((S.DELIVERED, None))
    out = {}
    for milestone, ref in wanted:
        for notice in plan(rules, milestone, prefs, contact):
            out[idempotency_key(order.order_number, notice, ref)] = (
                f"{notice.kind.value} by {notice.channel.value}"
            )
    return out


def audit_order(
    order: Order,
    shipments: list[Shipment],
    delays: list[Delay],
    notices: list[Notification],
    rules: Rules,
    now: datetime,
) -> list[str]:
    """Pure: the problems found for one order."""
    problems = []
    have = {n.idempotency_key: n for n in notices}
    for key, what in _expected(order, shipments, delays, rules).items():
        if key not in have:
            problems.append(f"missing {what} notice ({key})")
    for n in notices:
        claimed = _CLAIMS.get(n.milestone)
        if n.state == N.SENT and claimed is not None and order.status not in claimed:
            problems.append(
                f"{n.kind} by {n.channel} announced {n.milestone} but the order is {order.status}"
            )
        problems += delivery_problems(n, now)
    return problems


def delivery_problems(n: Notification, now: datetime) -> list[str]:
    """Pure: what keeps one notice from its recipient (dead, blocked, overdue, stuck)."""
    problems = []
    if n.state in (N.DEAD, N.BLOCKED):
        problems.append(
            f"{n.kind} by {n.channel} is {n.state}: {n.blocked_reason or _last_error(n)}"
        )
    if n.state in RETRYABLE_STATES and n.due_at < now - STUCK_AFTER:
        problems.append(
            f"{n.kind} by {n.channel} overdue since {n.due_at.isoformat(timespec='minutes')}"
        )
    if n.state == N.SENDING and n.lease_until is not None and n.lease_until < now - STUCK_AFTER:
        problems.append(
            f"{n.kind} by {n.channel} stuck in sending since "
            f"{n.lease_until.isoformat(timespec='minutes')}"
        )
    return problems


def _last_error(n: Notification) -> str:
    errors = json.loads(n.errors or "[]")
    return errors[-1]["error"] if errors else "no reason recorded"


AUDIT_BATCH = 500


async def audit_all(
    db: Database, rules: Rules, now: datetime, *, batch: int = AUDIT_BATCH
) -> list[dict[str, Any]]:
    """Audit every order, ``batch`` orders at a time (three statements per batch, each batch in
    a short read of its own), so memory and transactions stay small however many orders."""
    findings: list[dict[str, Any]] = []
    last_id = 0
    while True:
        async with db.read() as session:
            orders = list(
                (
                    await session.execute(
                        select(Order)
                        .where(col(Order.id) > last_id)
                        .order_by(col(Order.id))
                        .limit(batch)
                    )
                ).scalars()
            )
            if not orders:
                return findings + await _orderless_findings(db, now)
            ids = [o.id for o in orders]
            shipments = await _grouped(session, Shipment, ids)
            delays = await _grouped(session, Delay, ids)
            notices = await _grouped(session, Notification, ids)
        for order in orders:
            oid = order.id or 0
            for problem in audit_order(
                order, shipments[oid], delays[oid], notices[oid], rules, now
            ):
                findings.append({"order_number": order.order_number, "problem": problem})
        last_id = orders[-1].id or last_id


async def _orderless_findings(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Notices about no order that have not gone out (the sent ones, nearly all, are not
    read): listed with an empty order number and their recipient."""
    waiting = [N.DEAD, N.BLOCKED, N.SENDING, *RETRYABLE_STATES]
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Notification)
                .where(col(Notification.order_id).is_(None), col(Notification.state).in_(waiting))
                .order_by(col(Notification.id))
            )
        ).scalars()
        return [
            {"order_number": "", "problem": f"{problem} (to {n.recipient}, about no order)"}
            for n in rows
            for problem in delivery_problems(n, now)
        ]


async def _grouped(session: AsyncSession, model: Any, order_ids: list[int | None]) -> Any:
    """Rows of ``model`` for these orders, by order id (in id order)."""
    rows = await session.execute(
        select(model).where(col(model.order_id).in_(order_ids)).order_by(col(model.id))
    )
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows.scalars():
        grouped[row.order_id].append(row)
    return grouped
