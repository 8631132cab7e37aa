"""Resending a notification from the order screen: a new outbox row naming the original.

The new row repeats the original's exact content and facts and goes through the same accuracy
gate, now and again before it is sent: a resend of a notice the order has moved past, or one
whose portal link was revoked, is superseded or blocked like any other.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ...domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ...errors import Conflict, NotFound
from ...models import Notification, Order
from ...notify.gate import check
from ..interactions import InteractionEntry, record_interaction
from ..links import link_is_live
from ..outbox import OUTBOX_CHANNEL, NoticeFacts, gate_notice, order_facts
from ..timeline import UnitOfWork
from .actor import Actor
from .bell import INTERACTIONS, NOTIFICATIONS, ring_after_commit

RESENDABLE = frozenset({"sent", "failed", "dead", "blocked", "superseded"})
_CHANNELS = {
    "email": InteractionChannel.EMAIL,
    "sms": InteractionChannel.SMS,
    "phone": InteractionChannel.PHONE,
}


def _copy(original: Notification, number: int, now: datetime) -> Notification:
    """The resend: the original's content and facts, due now, naming the original."""
    return Notification(
        order_id=original.order_id,
        idempotency_key=f"{original.idempotency_key}:resend:{number}",
        kind=original.kind,
        channel=original.channel,
        milestone=original.milestone,
        event_seq=original.event_seq,
        shipment_id=original.shipment_id,
        delay_id=original.delay_id,
        portal_link_id=original.portal_link_id,
        facts=original.facts,
        recipient=original.recipient,
        locale=original.locale,
        state="pending",
        template_version=original.template_version,
        subject=original.subject,
        body=original.body,
        html=original.html,
        created_at=now,
        due_at=now,
        resend_of=original.id,
    )


async def _judge(session: AsyncSession, order: Order, row: Notification, now: datetime) -> bool:
    """Run the accuracy gate on ``row`` as it would run before sending; False if refused."""
    link_live = row.portal_link_id is not None and await link_is_live(
        session, row.portal_link_id, now
    )
    verdict = check(
        gate_notice(row, NoticeFacts.loads(row.facts)),
        await order_facts(session, order, now, link_valid=link_live),
    )
    if verdict.ok:
        return True
    row.state = verdict.outcome.value
    reason = verdict.reason.value if verdict.reason else ""
    row.blocked_reason = f"{reason}: {verdict.message}"[:500]
    return False


async def resend_notification(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    notification_id: int,
    *,
    actor: Actor,
    now: datetime,
) -> Notification:
    """Queue the notification again as a new row (``resend_of`` names the original)."""
    original = await session.get(Notification, notification_id)
    if original is None or original.order_id != order.id:
        raise NotFound(f"order {order.order_number} has no notification {notification_id}")
    if original.state not in RESENDABLE:
        raise Conflict(f"notification {notification_id} is still {original.state}; wait for it")
    earlier = await session.execute(
        sa.select(sa.func.count()).where(col(Notification.resend_of) == original.id)
    )
    row = _copy(original, int(earlier.scalar_one()) + 1, now)
    ok = await _judge(session, order, row, now)
    session.add(row)
    await session.flush()
    refused = "" if ok else f": {row.state}, {row.blocked_reason}"
    record_interaction(
        session,
        order,
        InteractionEntry(
            channel=_CHANNELS.get(original.channel, InteractionChannel.WEB),
            direction=Direction.OUTBOUND,
            outcome=InteractionOutcome.RESOLVED,
            summary=f"Resent notification #{original.id} ({original.kind} by {original.channel})"
            + refused,
            staff=actor.name,
            staff_user_id=actor.staff_user_id,
            action=InteractionAction.NOTIFICATION_RESENT,
        ),
        now=now,
    )
    if ok:
        uow.notifications += 1
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(sa.text(f"NOTIFY {OUTBOX_CHANNEL}"))
    ring_after_commit(uow, order, NOTIFICATIONS, INTERACTIONS)
    return row
