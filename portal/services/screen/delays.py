"""Opening a delay from the order screen: preview every customer notice first, then send.

The preview runs the real delay service in a transaction that is rolled back: the notices are
planned by the real rules, rendered by the real templates and judged by the real accuracy gate,
and nothing is kept (an uncommitted outbox row is invisible to dispatchers, and PostgreSQL only
delivers NOTIFY on commit). The share link such a notice would carry exists only inside that
transaction, so its URL is shown as a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ...db import Database
from ...domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ...models import Delay, Notification, Order
from ...notify.wording import alternative_words, reason_words
from ...schemas import DelayCreate
from .. import orders as order_service
from ..interactions import InteractionEntry, record_interaction
from ..outbox import NoticeFacts
from ..timeline import UnitOfWork, lock_order
from .actor import Actor

LINK_PLACEHOLDER = "[tracking link]"
SOURCE_LENGTH = 64  # order_events.source


@dataclass(frozen=True, slots=True)
class NoticePreview:
    """One notice as the customer would get it, with the gate's verdict."""

    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    verdict: str  # "ok" (it would be sent), "blocked" or "superseded"
    reason: str | None


class _Discard(Exception):
    """Raised inside the preview's transaction so it is rolled back."""

    def __init__(self, previews: list[NoticePreview]) -> None:
        super().__init__("preview")
        self.previews = previews


def _shown(row: Notification) -> NoticePreview:
    url = NoticeFacts.loads(row.facts).portal_url
    subject, body = row.subject, row.body
    if url:
        subject, body = subject.replace(url, LINK_PLACEHOLDER), body.replace(url, LINK_PLACEHOLDER)
    pending = row.state == "pending"
    return NoticePreview(
        kind=row.kind,
        channel=row.channel,
        recipient=row.recipient,
        subject=subject,
        body=body,
        verdict="ok" if pending else row.state,
        reason=None if pending else row.blocked_reason,
    )


async def preview_delay(
    db: Database,
    uow: UnitOfWork,
    order_number: str,
    data: DelayCreate,
    *,
    actor: Actor,
    now: datetime,
) -> list[NoticePreview]:
    """The notices opening this delay would queue, each rendered and judged; nothing kept."""
    try:
        async with db.write() as session:
            order = await lock_order(session, order_number)
            delay = await _open(session, uow, order, data, actor, now)
            rows = await session.execute(
                sa.select(Notification)
                .where(col(Notification.delay_id) == delay.id)
                .order_by(col(Notification.id))
            )
            raise _Discard([_shown(row) for row in rows.scalars()])
    except _Discard as discarded:
        uow.published.clear()
        uow.notifications = 0
        return discarded.previews
    raise AssertionError("unreachable: the preview always rolls back")


async def open_delay_as(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    data: DelayCreate,
    *,
    actor: Actor,
    now: datetime,
) -> Delay:
    """Open the delay (the customer is notified through the outbox) and log it in the CRM."""
    record_interaction(session, order, _delay_entry(data, actor), now=now)
    return await _open(session, uow, order, data, actor, now)


async def _open(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    data: DelayCreate,
    actor: Actor,
    now: datetime,
) -> Delay:
    source = f"support:{actor.name}"[:SOURCE_LENGTH]
    return await order_service.open_delay(session, uow, order, data, now=now, source=source)


def _delay_entry(data: DelayCreate, actor: Actor) -> InteractionEntry:
    parts = [f"Delay opened: {reason_words(data.reason_code.value, 'en')}. {data.message}"]
    if data.new_estimated_delivery:
        parts.append(f"New estimate {data.new_estimated_delivery.isoformat()}.")
    if data.compensation:
        parts.append(f"Offered: {data.compensation}.")
    if data.alternatives:
        offered = ", ".join(alternative_words(a, "en") for a in data.alternatives)
        parts.append(f"Alternatives: {offered}.")
    return InteractionEntry(
        channel=InteractionChannel.WEB,
        direction=Direction.OUTBOUND,
        outcome=InteractionOutcome.RESOLVED,
        summary=" ".join(parts),
        staff=actor.name,
        staff_user_id=actor.staff_user_id,
        action=InteractionAction.DELAY_OPENED,
    )
