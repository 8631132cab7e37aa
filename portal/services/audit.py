"""`portal audit`: do orders and their notifications agree?"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
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


async def audit_all(db: Database, rules: Rules, now: datetime) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []
    async with db.read() as session:
        orders = list((await session.execute(select(Order).order_by(col(Order.id)))).scalars())
        for order in orders:
            shipments = list(
                (
                    await session.execute(
                        select(Shipment).where(col(Shipment.order_id) == order.id)
                    )
                ).scalars()
            )
            delays = list(
                (
                    await session.execute(select(Delay).where(col(Delay.order_id) == order.id))
                ).scalars()
            )
            notices = list(
                (
                    await session.execute(
                        select(Notification).where(col(Notification.order_id) == order.id)
                    )
                ).scalars()
            )
            for problem in audit_order(order, shipments, delays, notices, rules, now):
                findings.append({"order_number": order.order_number, "problem": problem})
    return findings
