"""Call tasks: made from phone delay notices and callbacks asked for, listed due first,
completed (or rescheduled) with the outcome in the CRM log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ...db import Database
from ...domain.calls import CallReason, CallState, after_call
from ...domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ...errors import Conflict, NotFound
from ...models import Notification, Order
from ...models_screen import CallTask
from ..interactions import InteractionEntry, record_interaction
from ..timeline import UnitOfWork, lock_order_by_id
from .actor import Actor
from .bell import CALLS, INTERACTIONS, ring_after_commit


async def task_for_notice(db: Database, row: Notification, now: datetime) -> int:
    """The call task of a phone notice (made once however often the notice is retried)."""
    async with db.write() as session:
        found = (
            await session.execute(
                sa.select(col(CallTask.id)).where(col(CallTask.notification_id) == row.id)
            )
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
        assert row.order_id is not None  # a phone notice is always about an order
        task = CallTask(
            order_id=row.order_id,
            notification_id=row.id,
            reason=CallReason.DELAY_NOTICE.value,
            phone=row.recipient,
            script=row.body,
            locale=row.locale,
            due_at=now,
            created_at=now,
        )
        session.add(task)
        await session.flush()
        assert task.id is not None
        return task.id


def request_callback(
    session: AsyncSession, order: Order, *, actor: Actor, due_at: datetime, note: str, now: datetime
) -> CallTask | None:
    """A callback the customer asked for (None when the order has no phone number)."""
    if not order.customer_phone or order.id is None:
        return None
    task = CallTask(
        order_id=order.id,
        reason=CallReason.CALLBACK.value,
        phone=order.customer_phone,
        script=note or f"Call back about order {order.order_number}.",
        locale=order.locale,
        created_by=actor.name,
        due_at=due_at,
        created_at=now,
    )
    session.add(task)
    return task


@dataclass(frozen=True, slots=True)
class DueCall:
    """A call task as the calls list shows it."""

    id: int
    order_number: str
    customer_name: str
    timezone: str
    phone: str
    reason: str
    script: str
    due_at: datetime
    attempts: int
    overdue: bool


_OPEN = (
    sa.select(CallTask, col(Order.order_number), col(Order.customer_name), col(Order.timezone))
    .join(Order, col(Order.id) == col(CallTask.order_id))
    .where(col(CallTask.state) == CallState.OPEN.value)
    .order_by(col(CallTask.due_at), col(CallTask.id))
)


async def open_calls(
    session: AsyncSession, now: datetime, *, limit: int = 200, due_only: bool = False
) -> list[DueCall]:
    """Open call tasks, the most overdue first (only those due by ``now`` if ``due_only``)."""
    stmt = _OPEN.where(col(CallTask.due_at) <= now) if due_only else _OPEN
    rows = (await session.execute(stmt.limit(limit))).all()
    return [
        DueCall(
            id=task.id or 0,
            order_number=number,
            customer_name=name,
            timezone=tz,
            phone=task.phone,
            reason=task.reason,
            script=task.script,
            due_at=task.due_at,
            attempts=task.attempts,
            overdue=task.due_at <= now,
        )
        for task, number, name, tz in rows
    ]


@dataclass(frozen=True, slots=True)
class CallCompletion:
    outcome: InteractionOutcome
    note: str
    duration_s: int | None = None
    reschedule_at: datetime | None = None


async def complete_call(
    session: AsyncSession,
    uow: UnitOfWork,
    task_id: int,
    done: CallCompletion,
    *,
    actor: Actor,
    now: datetime,
) -> CallTask:
    """Record a call attempt: the CRM log gets its outcome; the task closes, or stays open
    with a later due time when an unreached customer is to be called again."""
    task = await session.get(CallTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"no call task {task_id}")
    if task.state != CallState.OPEN.value:
        raise Conflict(f"call task {task_id} is already done")
    after = after_call(done.outcome, done.reschedule_at, now)
    order = await lock_order_by_id(session, task.order_id)
    task.attempts += 1
    task.outcome = done.outcome.value
    task.note = done.note
    if after.state is CallState.OPEN and after.due_at is not None:
        task.due_at = after.due_at
    else:
        task.state = CallState.DONE.value
        task.completed_at = now
        task.completed_by = actor.name
    session.add(task)
    again = f"; call again {after.due_at.isoformat(timespec='minutes')}" if after.due_at else ""
    record_interaction(
        session,
        order,
        InteractionEntry(
            channel=InteractionChannel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=done.outcome,
            summary=(done.note or f"Call task {task_id}") + again,
            staff=actor.name,
            staff_user_id=actor.staff_user_id,
            action=InteractionAction.CALL_COMPLETED,
            duration_s=done.duration_s,
        ),
        now=now,
    )
    ring_after_commit(uow, order, CALLS, INTERACTIONS)
    return task
