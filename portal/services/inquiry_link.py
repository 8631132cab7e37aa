"""Linking an unmatched inquiry (a mail that matched no order) to the order it is about.

The sender is checked against the order's customer first (:mod:`portal.domain.inquiry_link`):
a mail from another address is linked only when the agent confirms, and nothing changes
otherwise. Linking records an interaction on the order (and moves the inquiry's earlier
interactions to the order's log), raises the priority from the order's facts, and moves the
clocks from where they are: they keep running from the inquiry's opening, nothing restarts.
After linking, replies go to the order's customer through the outbox like any other, and the
answers already sent to the sender's address (notices about no order) move to the order, so
its archive, screen and audit hold them.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import col

from ..domain.inquiries import InquiryChannel
from ..domain.inquiry_link import SenderCheck, SenderMismatch, check_sender
from ..domain.interactions import Direction, InteractionAction, InteractionOutcome
from ..errors import Conflict
from ..models import Notification, Order
from ..models_crm import Interaction
from ..models_inquiries import Inquiry, InquiryMessage
from ..notify.kinds import Channel
from .inquiries import INTERACTION_CHANNEL, Author, Work, raise_from_order, refresh
from .inquiry_replies import reply_key
from .interactions import InteractionEntry, record_interaction
from .screen.bell import ring_after_commit


async def link_to_order(
    work: Work, inquiry: Inquiry, order: Order, author: Author, *, confirmed: bool
) -> SenderCheck:
    """Make ``inquiry`` about ``order``; Conflict (nothing changed) when it already is about
    an order, or when its sender is not the order's customer and ``confirmed`` is False."""
    if inquiry.order_id is not None:
        raise Conflict("this inquiry is already about an order", code="already_linked")
    try:
        check = check_sender(inquiry.customer_email, order.customer_email, confirmed=confirmed)
    except SenderMismatch as exc:
        raise Conflict(str(exc), code="sender_mismatch") from None
    assert inquiry.id is not None and order.id is not None
    inquiry.order_id = order.id
    inquiry.customer_name = inquiry.customer_name or order.customer_name
    inquiry.customer_phone = inquiry.customer_phone or order.customer_phone
    work.session.add(inquiry)
    await work.session.execute(
        update(Interaction)
        .where(col(Interaction.inquiry_id) == inquiry.id, col(Interaction.order_id).is_(None))
        .values(order_id=order.id)
    )
    await _move_answers(work, inquiry, order)
    record_interaction(
        work.session,
        order,
        InteractionEntry(
            channel=INTERACTION_CHANNEL[InquiryChannel(inquiry.channel)],
            direction=Direction.INBOUND,
            outcome=InteractionOutcome.ANSWERED,
            summary=_summary(inquiry, order, check),
            staff=author.name,
            staff_user_id=author.staff_user_id,
            action=InteractionAction.INQUIRY_LINKED,
            inquiry_id=inquiry.id,
        ),
        now=work.now,
    )
    await raise_from_order(work, inquiry, order)
    await refresh(work, inquiry)
    work.uow.inquiries.append(inquiry.id)
    ring_after_commit(work.uow, order)  # open order screens show the inquiry now
    return check


async def _move_answers(work: Work, inquiry: Inquiry, order: Order) -> None:
    """Notices about no order that answered this inquiry now belong to ``order``."""
    replies = (
        await work.session.execute(
            select(col(InquiryMessage.id)).where(col(InquiryMessage.inquiry_id) == inquiry.id)
        )
    ).scalars()
    keys = [reply_key(m, channel) for m in replies if m is not None for channel in Channel]
    if keys:
        await work.session.execute(
            update(Notification)
            .where(
                col(Notification.order_id).is_(None), col(Notification.idempotency_key).in_(keys)
            )
            .values(order_id=order.id, event_seq=order.last_seq)
        )


def _summary(inquiry: Inquiry, order: Order, check: SenderCheck) -> str:
    sender = inquiry.customer_email or "an unknown sender"
    if check is SenderCheck.MATCHED:
        why = f"the sender {sender} is the order's customer"
    else:
        why = f"the sender {sender} is not the order's customer; linked as the agent confirmed"
    return f"Inquiry #{inquiry.id} linked to order {order.order_number}: {why}"[:500]
