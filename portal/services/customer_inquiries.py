"""What the tracking page shows of an order's inquiries: the questions, the answers, and when
the next answer is due. One indexed query per rendering of the order (not per viewer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..domain.inquiries import InquiryState, TargetState
from ..models import table_of
from ..models_inquiries import Inquiry, InquiryMessage

INQUIRIES, MESSAGES = table_of(Inquiry), table_of(InquiryMessage)

_QUERY = (
    sa.select(
        INQUIRIES.c.id,
        INQUIRIES.c.state,
        INQUIRIES.c.first_response_state,
        INQUIRIES.c.first_response_due_at,
        INQUIRIES.c.next_response_state,
        INQUIRIES.c.next_response_due_at,
        MESSAGES.c.direction,
        MESSAGES.c.body,
        MESSAGES.c.created_at,
    )
    .join(MESSAGES, MESSAGES.c.inquiry_id == INQUIRIES.c.id)
    .where(INQUIRIES.c.order_id == sa.bindparam("order_id"))
    .order_by(INQUIRIES.c.id, MESSAGES.c.created_at, MESSAGES.c.id)
)


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    from_customer: bool
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CustomerInquiry:
    id: int
    state: str
    # When the customer is told to expect an answer (None: none is awaited now).
    answer_by: datetime | None
    messages: tuple[CustomerMessage, ...]

    @property
    def awaiting_answer(self) -> bool:
        return (
            self.state == InquiryState.OPEN
            and bool(self.messages)
            and self.messages[-1].from_customer
        )


def _answer_by(row: Any) -> datetime | None:
    for state, due in (
        (row.first_response_state, row.first_response_due_at),
        (row.next_response_state, row.next_response_due_at),
    ):
        if state in (TargetState.PENDING, TargetState.BREACHED) and due is not None:
            return due
    return None


def customer_inquiries(
    rows: Callable[..., Sequence[sa.Row[Any]]], order_id: int
) -> tuple[CustomerInquiry, ...]:
    """The order's inquiries as the customer sees them, oldest first."""
    grouped: dict[int, list[Any]] = {}
    for row in rows(_QUERY, order_id=order_id):
        grouped.setdefault(row.id, []).append(row)
    return tuple(
        CustomerInquiry(
            id=inquiry_id,
            state=found[0].state,
            answer_by=_answer_by(found[0]),
            messages=tuple(
                CustomerMessage(r.direction == "inbound", r.body, r.created_at) for r in found
            ),
        )
        for inquiry_id, found in grouped.items()
    )
