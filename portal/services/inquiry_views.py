"""Reading inquiries back: the queue, one inquiry with messages and SLA events, as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.inquiries import InquiryState, SlaTarget, TargetState
from ..models import Order, StaffUser
from ..models_inquiries import Inquiry, InquiryMessage, SlaEvent

_TARGET_COLUMNS = {
    SlaTarget.FIRST_RESPONSE: ("first_response_state", "first_response_due_at"),
    SlaTarget.NEXT_RESPONSE: ("next_response_state", "next_response_due_at"),
    SlaTarget.RESOLUTION: ("resolution_state", "resolution_due_at"),
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def effective_state(state: str, due_at: datetime | None, now: datetime) -> str:
    """A stored state as of ``now``: a pending target past its due time is breached already,
    even before the breach watcher has recorded it."""
    if state == TargetState.PENDING.value and due_at is not None and due_at <= now:
        return TargetState.BREACHED.value
    return state


@dataclass(frozen=True, slots=True)
class QueueRow:
    inquiry: Inquiry
    order_number: str | None
    assignee: str | None

    def targets(self, now: datetime) -> dict[str, dict[str, Any]]:
        found = {}
        for target, (state_col, due_col) in _TARGET_COLUMNS.items():
            due = getattr(self.inquiry, due_col)
            found[target.value] = {
                "due_at": iso(due),
                "state": effective_state(getattr(self.inquiry, state_col), due, now),
            }
        return found

    def breached(self, now: datetime) -> bool:
        return any(t["state"] == TargetState.BREACHED.value for t in self.targets(now).values())

    def warning(self, now: datetime, minutes: int) -> bool:
        due = self.inquiry.next_due_at
        return due is not None and now < due <= now + timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    state: str | None = None  # None: every state but resolved
    breached: bool | None = None
    priority: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    order_id: int | None = None
    every_state: bool = False  # resolved ones too (an order's screen)
    limit: int = 200


async def queue(session: AsyncSession, filters: QueueFilter, now: datetime) -> list[QueueRow]:
    """Inquiries by next due time, breached first (then those with no running target)."""
    inq = Inquiry
    stmt: Any = (
        select(inq, col(Order.order_number), col(StaffUser.email))
        .outerjoin(Order, col(Order.id) == col(inq.order_id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(inq.assignee_id))
    )
    if filters.state:
        stmt = stmt.where(col(inq.state) == filters.state)
    elif not filters.every_state:
        stmt = stmt.where(col(inq.state) != InquiryState.RESOLVED.value)
    if filters.priority:
        stmt = stmt.where(col(inq.priority) == filters.priority)
    if filters.assignee_id is not None:
        stmt = stmt.where(col(inq.assignee_id) == filters.assignee_id)
    if filters.unassigned:
        stmt = stmt.where(col(inq.assignee_id).is_(None))
    if filters.order_id is not None:
        stmt = stmt.where(col(inq.order_id) == filters.order_id)
    # Breached now: recorded, or a running due time already passed.
    breached_now = col(inq.breached) | (col(inq.next_due_at) <= now)
    if filters.breached is not None:
        stmt = stmt.where(breached_now if filters.breached else ~breached_now)
    stmt = stmt.order_by(
        case((breached_now, 0), else_=1),
        case((col(inq.next_due_at).is_(None), 1), else_=0),
        col(inq.next_due_at),
        col(inq.id),
    ).limit(filters.limit)
    rows = (await session.execute(stmt)).all()
    return [QueueRow(r[0], r[1], r[2]) for r in rows]


async def queue_row(session: AsyncSession, inquiry_id: int) -> QueueRow | None:
    stmt: Any = (
        select(Inquiry, col(Order.order_number), col(StaffUser.email))
        .outerjoin(Order, col(Order.id) == col(Inquiry.order_id))
        .outerjoin(StaffUser, col(StaffUser.id) == col(Inquiry.assignee_id))
        .where(col(Inquiry.id) == inquiry_id)
    )
    row = (await session.execute(stmt)).first()
    return QueueRow(row[0], row[1], row[2]) if row else None


def inquiry_json(row: QueueRow, now: datetime) -> dict[str, Any]:
    """The list item form (DESIGN.md "Inquiry JSON", without messages and events)."""
    i = row.inquiry
    return {
        "id": i.id,
        "order_number": row.order_number,
        "channel": i.channel,
        "subject": i.subject,
        "state": i.state,
        "priority": i.priority,
        "priority_reason": i.priority_reason,
        "assignee": row.assignee,
        "customer_email": i.customer_email,
        "created_at": iso(i.created_at),
        "resolved_at": iso(i.resolved_at),
        "next_due_at": iso(i.next_due_at),
        "breached": row.breached(now),
        "targets": row.targets(now),
    }


async def inquiry_detail(session: AsyncSession, row: QueueRow, now: datetime) -> dict[str, Any]:
    """One inquiry with its messages and SLA events."""
    messages = (
        await session.execute(
            select(InquiryMessage)
            .where(col(InquiryMessage.inquiry_id) == row.inquiry.id)
            .order_by(col(InquiryMessage.created_at), col(InquiryMessage.id))
        )
    ).scalars()
    events = (
        await session.execute(
            select(SlaEvent)
            .where(col(SlaEvent.inquiry_id) == row.inquiry.id)
            .order_by(col(SlaEvent.id))
        )
    ).scalars()
    return {
        **inquiry_json(row, now),
        "messages": [message_json(m) for m in messages],
        "sla_events": [
            {
                "kind": e.kind,
                "target": e.target,
                "at": iso(e.at),
                "value": e.value,
                "reason": e.reason,
                "due_at": iso(e.due_at),
            }
            for e in events
        ],
    }


def message_json(m: InquiryMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "body": m.body,
        "author": m.author,
        "created_at": iso(m.created_at),
        "sent_at": iso(m.sent_at),
    }
