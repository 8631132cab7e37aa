"""Agents' replies to the customer: outbox rows like every notification, and their sending.

A reply is rendered with the ``inquiry_reply`` templates, checked by the accuracy gate, kept
with its exact content and sent by the dispatcher (email; SMS too when the customer asked by
SMS). The first-response clock stops when the dispatcher records a reply as *sent*:
:func:`mark_replies_sent` runs in the dispatcher's own transaction.

An unmatched inquiry (about no known order) is answered by email to its sender's address: an
``unmatched_inquiry_reply`` notice with no order, share link or unsubscribe link, which the
gate checks for what needs no order (portal.notify.gate.check).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.sla import SlaPolicy
from ..models import Notification, Order
from ..models_inquiries import Inquiry, InquiryMessage
from ..notify.kinds import Channel, NotificationKind
from ..notify.rules import send_after
from ..notify.templates import NoticeContext
from .inquiry_clock import breached_targets, refresh_clock
from .links import PLACEMENT_LINK_DAYS, issue_link
from .outbox import (
    OUTBOX_CHANNEL,
    NoticeFacts,
    Notifier,
    customer_prefs,
    notice_context,
    order_facts,
    render_and_check,
)

KEY_PREFIX = "inquiry-reply:"


def reply_key(message_id: int, channel: Channel) -> str:
    return f"{KEY_PREFIX}{message_id}:{channel.value}"


def message_of_key(key: str) -> int | None:
    if not key.startswith(KEY_PREFIX):
        return None
    number = key[len(KEY_PREFIX) :].split(":", 1)[0]
    return int(number) if number.isdigit() else None


def _recipients(order: Order, inquiry: Inquiry) -> list[tuple[Channel, str]]:
    wanted = {part.strip() for part in inquiry.reply_channels.split(",")}
    found: list[tuple[Channel, str]] = []
    if Channel.EMAIL.value in wanted and order.customer_email:
        found.append((Channel.EMAIL, order.customer_email))
    if Channel.SMS.value in wanted and order.customer_phone:
        found.append((Channel.SMS, order.customer_phone))
    return found


def _notifier(uow: Any) -> Notifier:
    notifier: Notifier | None = uow.notifier
    if notifier is None:
        raise RuntimeError("a reply needs a UnitOfWork with a notifier")
    return notifier


async def _wake_dispatchers(session: AsyncSession) -> None:
    """Delivered on commit: listening dispatchers (PostgreSQL) wake at once."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))


async def enqueue_reply(
    session: AsyncSession,
    uow: Any,
    order: Order | None,
    inquiry: Inquiry,
    message: InquiryMessage,
    *,
    now: datetime,
) -> list[Notification]:
    """Write the reply's notices to the outbox in the caller's transaction (to the sender's
    address when the inquiry is about no order)."""
    if order is None:
        return [await _enqueue_unmatched(session, uow, inquiry, message, now=now)]
    notifier = _notifier(uow)
    assert order.id is not None and message.id is not None
    link = issue_link(
        session, order, now=now, expires_in_days=PLACEMENT_LINK_DAYS, created_by="inquiry_reply"
    )
    await session.flush()
    settings = notifier.settings
    current = await order_facts(session, order, now, link_valid=True)
    ctx, facts = await notice_context(session, settings, order, link.path(), current.today)
    ctx = replace(ctx, reply_text=message.body)
    facts = replace(facts, eta=None)  # a reply states no delivery date of its own
    templates = await notifier.templates(session)
    prefs = customer_prefs(order)
    rows = []
    for channel, recipient in _recipients(order, inquiry):
        row = Notification(
            order_id=order.id,
            idempotency_key=reply_key(message.id, channel),
            kind=NotificationKind.INQUIRY_REPLY.value,
            channel=channel.value,
            milestone=order.status,
            event_seq=order.last_seq,
            portal_link_id=link.link.id,
            facts=facts.dumps(),
            recipient=recipient,
            locale=order.locale,
            state="pending",
            body="",
            created_at=now,
            due_at=send_after(channel, now, prefs),
        )
        render_and_check(row, templates, ctx, facts, current)
        session.add(row)
        rows.append(row)
        uow.notifications += 1
    if rows:
        await _wake_dispatchers(session)
    return rows


async def _enqueue_unmatched(
    session: AsyncSession, uow: Any, inquiry: Inquiry, message: InquiryMessage, *, now: datetime
) -> Notification:
    notifier = _notifier(uow)
    assert message.id is not None and inquiry.customer_email
    settings = notifier.settings
    ctx = NoticeContext(
        shop_name=settings.shop_name,
        order_number="",
        customer_name=inquiry.customer_name or "",
        portal_url="",
        support_email=settings.support_email,
        reply_text=message.body,
    )
    facts = NoticeFacts(portal_url="")  # states no order, link, tracking number or date
    row = Notification(
        order_id=None,
        idempotency_key=reply_key(message.id, Channel.EMAIL),
        kind=NotificationKind.UNMATCHED_INQUIRY_REPLY.value,
        channel=Channel.EMAIL.value,
        milestone="",
        event_seq=0,
        facts=facts.dumps(),
        recipient=inquiry.customer_email,
        state="pending",
        body="",
        created_at=now,
        due_at=now,
    )
    render_and_check(row, await notifier.templates(session), ctx, facts, None)
    session.add(row)
    uow.notifications += 1
    await _wake_dispatchers(session)
    return row


@dataclass(frozen=True, slots=True)
class RepliesSent:
    """What marking replies sent changed: inquiries, and the breaches it recorded (targets)."""

    inquiries: list[int] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)


async def mark_replies_sent(
    session: AsyncSession, keys: list[str], *, policy: SlaPolicy, now: datetime
) -> RepliesSent:
    """The dispatcher sent notices with these idempotency keys: replies among them are sent
    now (the first channel that went counts), and their inquiries' clocks move (a target
    found already due is breached here, and counted by the caller after commit)."""
    message_ids = {m for m in (message_of_key(k) for k in keys) if m is not None}
    if not message_ids:
        return RepliesSent()
    messages = (
        await session.execute(
            select(InquiryMessage).where(
                col(InquiryMessage.id).in_(message_ids), col(InquiryMessage.sent_at).is_(None)
            )
        )
    ).scalars()
    inquiry_ids = set()
    for message in messages:
        message.sent_at = now
        session.add(message)
        inquiry_ids.add(message.inquiry_id)
    await session.flush()
    breaches: list[str] = []
    for inquiry_id in sorted(inquiry_ids):
        inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
        if inquiry is not None:
            breaches += breached_targets(await refresh_clock(session, inquiry, policy, now))
    return RepliesSent(sorted(inquiry_ids), breaches)
