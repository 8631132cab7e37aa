"""Recording a customer's choice among a delay's alternatives, and staff acting on it.

Each is one transaction: the delay's ``customer_choice``, its ``delay_choices`` row, a timeline
event (so the tracking page and the order screen update live), and a CRM log entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.delay_choice import ChoiceRefusal, check_choice
from ..domain.inquiries import InquiryChannel, Priority
from ..domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ..domain.sla import SlaPolicy
from ..errors import Conflict, NotFound, PortalError
from ..models import Delay, Order
from ..models_inquiries import Inquiry
from ..models_records import DelayChoice
from ..notify.wording import alternative_words
from .choice_state import CHOICES, STAFF_ACTED
from .inquiries import Author, NewInquiry, Work, add_customer_message, open_inquiry
from .interactions import InteractionEntry, record_interaction
from .timeline import UnitOfWork, append_event


class InvalidAlternative(PortalError):
    status_code = 400
    code = "invalid_alternative"


class ChoiceClosed(Conflict):
    code = "choice_closed"


_REFUSALS = {
    ChoiceRefusal.NOT_OFFERED: (InvalidAlternative, "that is not one of the offered choices"),
    ChoiceRefusal.DELAY_CLOSED: (ChoiceClosed, "this delay is closed: contact us to change it"),
    ChoiceRefusal.HANDLED: (
        ChoiceClosed,
        "our team is already arranging your choice: contact us to change it",
    ),
}


@dataclass(frozen=True, slots=True)
class ChoiceResult:
    delay_id: int
    alternative: str
    changed: bool  # False when the same choice was sent again (nothing recorded)
    previous: str | None


async def _delay_of(session: AsyncSession, order: Order, delay_id: int) -> Delay:
    stmt = sa.select(Delay).where(col(Delay.id) == delay_id, col(Delay.order_id) == order.id)
    delay = (await session.execute(stmt)).scalar_one_or_none()
    if delay is None:
        raise NotFound(f"no delay {delay_id} on this order")
    return delay


async def _choice_of(session: AsyncSession, delay_id: int) -> DelayChoice | None:
    stmt = sa.select(DelayChoice).where(col(DelayChoice.delay_id) == delay_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _staff_acted(session: AsyncSession, choice: DelayChoice | None) -> bool:
    if choice is None:
        return False
    stmt = sa.select(STAFF_ACTED).select_from(CHOICES).where(CHOICES.c.id == choice.id)
    return bool((await session.execute(stmt)).scalar_one())


async def _tell_support(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    choice: DelayChoice,
    text: str,
    *,
    policy: SlaPolicy,
    now: datetime,
) -> None:
    """Open the choice's high-priority inquiry for the queue, or add to it when it exists."""
    work = Work(session, uow, policy, now)
    author = Author(order.customer_email)
    inquiry = await session.get(Inquiry, choice.inquiry_id) if choice.inquiry_id else None
    if inquiry is not None:
        await add_customer_message(work, inquiry, text, channel=InquiryChannel.WEB, author=author)
        return
    new = NewInquiry(
        channel=InquiryChannel.WEB,
        message=text,
        subject=f"Delay: the customer chose to {text.split(': ', 1)[1].rstrip('.')}"[:200],
        priority=Priority.HIGH,
        order=order,
    )
    choice.inquiry_id = (await open_inquiry(work, new, author)).id


def words(alternative: str, locale: str | None = None) -> str:
    return alternative_words(alternative, locale)


def choice_summary(
    reason_code: str, compensation: str | None, previous: str | None, chosen: str
) -> str:
    """Pure: the CRM log's line for a customer's choice (English, for staff)."""
    offered = f" (offered: {compensation})" if compensation else ""
    if previous is None:
        return f"Customer chose {words(chosen)!r} for the {reason_code} delay{offered}"
    return (
        f"Customer changed the choice for the {reason_code} delay from "
        f"{words(previous)!r} to {words(chosen)!r}{offered}"
    )


async def record_choice(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    delay_id: int,
    alternative: str,
    *,
    policy: SlaPolicy,
    now: datetime,
) -> ChoiceResult:
    """Record (or change) the customer's choice; raises a typed error and changes nothing."""
    delay = await _delay_of(session, order, delay_id)
    existing = await _choice_of(session, delay_id)
    refusal = check_choice(
        delay_state=delay.state,
        alternatives=json.loads(delay.alternatives or "[]"),
        chosen=alternative,
        handled=await _staff_acted(session, existing),
    )
    if refusal is not None:
        error, message = _REFUSALS[refusal]
        raise error(message)
    previous = delay.customer_choice
    if previous == alternative:
        return ChoiceResult(delay_id, alternative, False, previous)
    existing = _chosen(existing, delay_id, order, alternative, now)
    delay.customer_choice = alternative
    session.add_all([delay, existing])
    await session.flush()
    chosen = words(alternative, order.locale)
    await _tell_support(
        session, uow, order, existing, f"My choice for the delay: {chosen}.", policy=policy, now=now
    )
    append_event(
        session,
        uow,
        order,
        now=now,
        kind="note",
        occurred_at=now,
        message=f"You chose: {chosen}. We will be in touch to arrange it.",
        source="customer",
        data={"delay_id": delay_id, "customer_choice": alternative, "previous": previous},
    )
    summary = choice_summary(delay.reason_code, delay.compensation, previous, alternative)
    record_interaction(session, order, _choice_interaction(summary, existing), now=now)
    await session.flush()
    return ChoiceResult(delay_id, alternative, True, previous)


def _chosen(
    existing: DelayChoice | None, delay_id: int, order: Order, alternative: str, now: datetime
) -> DelayChoice:
    """The choice row after this choice: a new one, or the existing one changed (and counted)."""
    if existing is None:
        return DelayChoice(
            delay_id=delay_id, order_id=order.id or 0, alternative=alternative, chosen_at=now
        )
    existing.alternative, existing.chosen_at = alternative, now
    existing.changes += 1
    return existing


def _choice_interaction(summary: str, choice: DelayChoice) -> InteractionEntry:
    """The customer's choice as a web interaction escalated to support."""
    return InteractionEntry(
        channel=InteractionChannel.WEB,
        direction=Direction.INBOUND,
        outcome=InteractionOutcome.ESCALATED,
        action=InteractionAction.DELAY_CHOICE,
        summary=summary,
        staff="customer",
        inquiry_id=choice.inquiry_id,
    )


async def mark_handled(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    delay_id: int,
    *,
    staff: str,
    staff_user_id: int | None,
    now: datetime,
) -> DelayChoice:
    """Staff act on the customer's choice: from now on the customer cannot change it."""
    delay = await _delay_of(session, order, delay_id)
    choice = await _choice_of(session, delay_id)
    if choice is None:
        raise Conflict("the customer has not chosen yet")
    if choice.handled_at is not None:
        return choice
    choice.handled_at, choice.handled_by = now, staff
    session.add(choice)
    chosen = words(choice.alternative, order.locale)
    append_event(
        session,
        uow,
        order,
        now=now,
        kind="note",
        occurred_at=now,
        message=f"We are arranging your choice: {chosen}.",
        source=f"staff:{staff}",
        data={"delay_id": delay_id, "customer_choice": choice.alternative, "handled": True},
    )
    entry = InteractionEntry(
        channel=InteractionChannel.WEB,
        direction=Direction.OUTBOUND,
        outcome=InteractionOutcome.RESOLVED,
        action=InteractionAction.DELAY_CHOICE,
        summary=f"Acted on the customer's choice {chosen!r} for the {delay.reason_code} delay",
        staff=staff,
        staff_user_id=staff_user_id,
        inquiry_id=choice.inquiry_id,
    )
    record_interaction(session, order, entry, now=now)
    await session.flush()
    return choice
