"""Inquiries: opening one, customer messages, agents' replies, state, priority, assignment.

Every message is an interaction in the CRM log and, for an inquiry about an order, an event on
the order's timeline (so the tracking page shows it live); every change moves the SLA clock
(:mod:`portal.services.inquiry_clock`). Changes run in the caller's transaction; the caller
publishes after commit what the UnitOfWork collected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.inquiries import InquiryChannel, InquiryState, Priority, SlaEventKind
from ..domain.inquiry_priority import OrderUrgency, raised_priority
from ..domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ..domain.sla import SlaPolicy
from ..errors import Conflict, ValidationFailed
from ..models import Delay, Order, Shipment
from ..models_inquiries import Inquiry, InquiryMessage
from ..timezones import zone
from .inquiry_clock import breached_targets, record_sla_event, refresh_clock
from .inquiry_replies import enqueue_reply
from .interactions import InteractionEntry, record_interaction
from .screen.bell import ring_after_commit
from .timeline import append_event

MAX_MESSAGE = 20_000


@dataclass(frozen=True, slots=True)
class Work:
    """One change's transaction, SLA policy and instant."""

    session: AsyncSession
    uow: Any
    policy: SlaPolicy
    now: datetime


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote or did it: a staff user's email, ``api:<key>``, or the customer's address."""

    name: str
    staff_user_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewInquiry:
    channel: InquiryChannel
    message: str
    subject: str = ""
    priority: Priority | None = None
    order: Order | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_name: str | None = None
    reply_channels: str = "email"
    inbound_mail_id: int | None = None


class ReplyChannel:
    """How an agent's reply reaches the customer: through the outbox, or said already."""

    OUTBOX = "outbox"  # email (and SMS when asked by SMS), sent by the dispatcher
    PHONE = "phone"  # told on the phone: sent when recorded
    CHAT = "chat"


INTERACTION_CHANNEL = {
    InquiryChannel.WEB: InteractionChannel.WEB,
    InquiryChannel.EMAIL: InteractionChannel.EMAIL,
    InquiryChannel.PHONE: InteractionChannel.PHONE,
    InquiryChannel.CHAT: InteractionChannel.CHAT,
}


async def refresh(work: Work, inquiry: Inquiry, *, opened: bool = False) -> None:
    """Move the inquiry's clocks; breaches this insert recorded are counted after commit."""
    moves = await refresh_clock(work.session, inquiry, work.policy, work.now, opened=opened)
    work.uow.sla_breaches.extend(breached_targets(moves))


def _body(text: str) -> str:
    body = text.strip()
    if not body:
        raise ValidationFailed("the message is empty")
    if len(body) > MAX_MESSAGE:
        raise ValidationFailed(f"the message is over {MAX_MESSAGE} characters")
    return body


async def order_urgency(session: AsyncSession, order: Order, now: datetime) -> OrderUrgency:
    """The facts of the order that raise its inquiries' priority."""
    delay = (
        await session.execute(
            select(col(Delay.id))
            .where(col(Delay.order_id) == order.id, col(Delay.state) == "open")
            .limit(1)
        )
    ).first()
    failed = (
        await session.execute(
            select(col(Shipment.id))
            .where(col(Shipment.order_id) == order.id, col(Shipment.status) == "attempt_failed")
            .limit(1)
        )
    ).first()
    tz = zone(order.timezone)
    changed = order.status_changed_at
    return OrderUrgency(
        status=order.status,
        open_delay=delay is not None,
        attempt_failed=failed is not None,
        status_changed_on=changed.astimezone(tz).date() if changed else None,
        today=now.astimezone(tz).date(),
    )


async def open_inquiry(work: Work, new: NewInquiry, author: Author) -> Inquiry:
    """Open an inquiry with its first (customer) message; priority raised from the order."""
    body = _body(new.message)
    order = new.order
    priority = new.priority or Priority.NORMAL
    inquiry = Inquiry(
        order_id=order.id if order else None,
        customer_name=new.customer_name or (order.customer_name if order else None),
        customer_email=new.customer_email or (order.customer_email if order else None),
        customer_phone=new.customer_phone or (order.customer_phone if order else None),
        channel=new.channel.value,
        reply_channels=new.reply_channels,
        subject=(new.subject.strip() or body.splitlines()[0])[:200],
        state=InquiryState.OPEN.value,
        priority=priority.value,
        policy=work.policy.name,
        created_at=work.now,
        updated_at=work.now,
    )
    work.session.add(inquiry)
    await work.session.flush()
    reason = "asked for" if new.priority else "default"
    await record_sla_event(
        work.session, inquiry, SlaEventKind.PRIORITY, at=work.now, now=work.now,
        value=priority.value, reason=reason,
    )  # fmt: skip
    if order is not None:
        await raise_from_order(work, inquiry, order)
    await _add_message(work, inquiry, order, body, Direction.INBOUND, new.channel, author,
                       inbound_mail_id=new.inbound_mail_id)  # fmt: skip
    await refresh(work, inquiry, opened=True)
    _announce(work, inquiry, order)
    return inquiry


async def add_customer_message(
    work: Work,
    inquiry: Inquiry,
    text: str,
    *,
    channel: InquiryChannel,
    author: Author,
    inbound_mail_id: int | None = None,
) -> InquiryMessage:
    """A customer wrote again: resumes a paused clock, reopens a resolved inquiry."""
    order = await _order_of(work.session, inquiry)
    message = await _add_message(work, inquiry, order, _body(text), Direction.INBOUND, channel,
                                 author, inbound_mail_id=inbound_mail_id)  # fmt: skip
    await refresh(work, inquiry)
    _announce(work, inquiry, order)
    return message


async def add_reply(
    work: Work, inquiry: Inquiry, text: str, *, author: Author, via: str = ReplyChannel.OUTBOX
) -> InquiryMessage:
    """An agent's answer. Through the outbox it counts as a response once sent."""
    order = await _order_of(work.session, inquiry)
    if via == ReplyChannel.OUTBOX and order is None and not inquiry.customer_email:
        raise Conflict("this inquiry is about no known order and has no address to send to")
    channel = {
        ReplyChannel.OUTBOX: InquiryChannel.EMAIL,
        ReplyChannel.PHONE: InquiryChannel.PHONE,
        ReplyChannel.CHAT: InquiryChannel.CHAT,
    }.get(via)
    if channel is None:
        raise ValidationFailed(f"unknown reply channel {via!r}")
    message = await _add_message(work, inquiry, order, _body(text), Direction.OUTBOUND, channel,
                                 author)  # fmt: skip
    if via == ReplyChannel.OUTBOX:  # to the sender's address when about no order
        await enqueue_reply(work.session, work.uow, order, inquiry, message, now=work.now)
    else:
        message.sent_at = work.now
        work.session.add(message)
        await work.session.flush()
    await refresh(work, inquiry)
    _announce(work, inquiry, order)
    return message


async def set_state(work: Work, inquiry: Inquiry, state: InquiryState, author: Author) -> bool:
    """open, waiting_on_customer (pauses) or resolved (stops resolution); False if unchanged."""
    if inquiry.state == state.value:
        return False
    await record_sla_event(
        work.session, inquiry, SlaEventKind.STATE, at=work.now, now=work.now, value=state.value,
        reason=f"by {author.name}",
    )  # fmt: skip
    inquiry.resolved_at = work.now if state is InquiryState.RESOLVED else None
    order = await _order_of(work.session, inquiry)
    outcome = (
        InteractionOutcome.RESOLVED
        if state is InquiryState.RESOLVED
        else InteractionOutcome.ANSWERED
    )
    record_interaction(
        work.session,
        order,
        InteractionEntry(
            channel=INTERACTION_CHANNEL[InquiryChannel(inquiry.channel)],
            direction=Direction.OUTBOUND,
            outcome=outcome,
            summary=f"Inquiry #{inquiry.id} set to {state.value}",
            staff=author.name,
            staff_user_id=author.staff_user_id,
            action=InteractionAction.INQUIRY_STATE,
            inquiry_id=inquiry.id,
        ),
        now=work.now,
    )
    await refresh(work, inquiry)
    _announce(work, inquiry, order)
    return True


async def assign(work: Work, inquiry: Inquiry, staff_user_id: int | None) -> None:
    inquiry.assignee_id = staff_user_id
    inquiry.updated_at = work.now
    work.session.add(inquiry)
    order = await work.session.get(Order, inquiry.order_id) if inquiry.order_id else None
    _announce(work, inquiry, order)  # the order screen shows who has it


async def raise_priorities_for_order(work: Work, order: Order) -> list[int]:
    """The order changed: raise the priority of its open inquiries where its facts say so."""
    rows = (
        await work.session.execute(
            select(Inquiry)
            .where(
                col(Inquiry.order_id) == order.id,
                col(Inquiry.state) != InquiryState.RESOLVED.value,
            )
            .with_for_update()
        )
    ).scalars()
    changed = []
    for inquiry in rows:
        if await raise_from_order(work, inquiry, order):
            await refresh(work, inquiry)
            work.uow.inquiries.append(inquiry.id)
            changed.append(inquiry.id)
    if changed:
        # This commits after the order change's own events were announced: ring again, or an
        # open order screen keeps showing the old priority.
        ring_after_commit(work.uow, order)
    return [i for i in changed if i is not None]


async def raise_from_order(work: Work, inquiry: Inquiry, order: Order) -> bool:
    facts = await order_urgency(work.session, order, work.now)
    raised = raised_priority(Priority(inquiry.priority), facts)
    if raised is None:
        return False
    priority, reason = raised
    await record_sla_event(
        work.session, inquiry, SlaEventKind.PRIORITY, at=work.now, now=work.now,
        value=priority.value, reason=reason,
    )  # fmt: skip
    inquiry.priority = priority.value
    inquiry.priority_reason = reason
    work.session.add(inquiry)
    return True


def _announce(work: Work, inquiry: Inquiry, order: Order | None) -> None:
    """After commit: the queue's bell for the inquiry and, when it is about an order, the order
    screen's, so every writer (API, console, tracking page, mail) refreshes open screens."""
    work.uow.inquiries.append(inquiry.id)
    if order is not None:
        ring_after_commit(work.uow, order)


async def _order_of(session: AsyncSession, inquiry: Inquiry) -> Order | None:
    if inquiry.order_id is None:
        return None
    return await session.get(Order, inquiry.order_id, with_for_update=True)


async def _add_message(
    work: Work,
    inquiry: Inquiry,
    order: Order | None,
    body: str,
    direction: Direction,
    channel: InquiryChannel,
    author: Author,
    *,
    inbound_mail_id: int | None = None,
) -> InquiryMessage:
    inbound = direction is Direction.INBOUND
    assert inquiry.id is not None
    message = InquiryMessage(
        inquiry_id=inquiry.id,
        direction=direction.value,
        channel=channel.value,
        body=body,
        author=author.name,
        staff_user_id=author.staff_user_id,
        created_at=work.now,
        sent_at=work.now if inbound else None,
        inbound_mail_id=inbound_mail_id,
    )
    work.session.add(message)
    await work.session.flush()
    record_interaction(
        work.session,
        order,
        InteractionEntry(
            channel=INTERACTION_CHANNEL[channel],
            direction=direction,
            outcome=InteractionOutcome.ANSWERED,
            summary=body[:500],
            staff=author.name,
            staff_user_id=author.staff_user_id,
            action=InteractionAction.INQUIRY_MESSAGE,
            inquiry_id=inquiry.id,
        ),
        now=work.now,
    )
    if order is not None:
        text = "You asked our support team" if inbound else "Our support team answered"
        append_event(work.session, work.uow, order, now=work.now, kind="inquiry",
                     occurred_at=work.now, message=text, source="inquiry")  # fmt: skip
    return message


# Published order events after which an order's open inquiries may need a higher priority.
URGENT_KINDS = frozenset({"delay"})
URGENT_STATUSES = frozenset({"attempt_failed", "exception", "out_for_delivery"})


def may_raise_priority(kind: str, status: str | None) -> bool:
    return kind in URGENT_KINDS or status in URGENT_STATUSES


async def raise_after_order_changes(
    db: Any, uow: Any, policy: SlaPolicy, now: datetime, order_numbers: set[str]
) -> list[int]:
    """After an order change committed: raise its open inquiries' priority in a transaction of
    their own (a read first, so orders without open inquiries cost one indexed query). ``uow``
    collects that transaction's work (breaches to count) for the caller."""
    async with db.read() as session:
        found = (
            await session.execute(
                select(col(Order.id))
                .join(Inquiry, col(Inquiry.order_id) == col(Order.id))
                .where(
                    col(Order.order_number).in_(sorted(order_numbers)),
                    col(Inquiry.state) != InquiryState.RESOLVED.value,
                )
                .distinct()
            )
        ).scalars()
        order_ids = sorted(i for i in found if i is not None)
    if not order_ids:
        return []
    changed: list[int] = []
    async with db.write() as session:
        work = Work(session, uow, policy, now)
        for order_id in order_ids:
            order = await session.get(Order, order_id, with_for_update=True)
            if order is not None:
                changed += await raise_priorities_for_order(work, order)
    return changed
