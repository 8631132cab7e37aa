"""The vocabulary of notifications: what is announced, which kind of notice, over which channel."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

from portal.domain.status import OrderStatus


class NotificationKind(StrEnum):
    """The kinds of customer notice the shop's procedure defines."""

    ORDER_CONFIRMATION = "order_confirmation"
    STATUS_UPDATE = "status_update"
    SHIPPING = "shipping"
    DELAY = "delay"
    DELIVERY = "delivery"
    INQUIRY_REPLY = "inquiry_reply"  # an agent's answer to a customer's question
    # An answer to an unmatched inquiry (a mail that matched no order): sent to the sender's
    # address, with no order, share link or unsubscribe link to state.
    UNMATCHED_INQUIRY_REPLY = "unmatched_inquiry_reply"


# Kinds about no order: the accuracy gate checks what it can without one.
ORDERLESS_KINDS: frozenset[NotificationKind] = frozenset({NotificationKind.UNMATCHED_INQUIRY_REPLY})
# An agent's free text is in these: "None" there is a word, not an unfilled field.
REPLY_KINDS: frozenset[NotificationKind] = frozenset(
    {NotificationKind.INQUIRY_REPLY, NotificationKind.UNMATCHED_INQUIRY_REPLY}
)


class Channel(StrEnum):
    """How a notice reaches the customer."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"


class Announcement(StrEnum):
    """What is announced besides an order status: a delay or a carrier exception was opened
    (it moves no status, but the customer is told)."""

    DELAYED = "delayed"


# What a notice announces: one of the order statuses of DESIGN.md (the one vocabulary of
# statuses, portal.domain.status.OrderStatus), or `delayed`.
Milestone: TypeAlias = OrderStatus | Announcement
DELAYED = Announcement.DELAYED


def parse_milestone(value: str) -> Milestone:
    """The milestone named `value`; ValueError for a name that is neither a status nor `delayed`."""
    if value == DELAYED.value:
        return DELAYED
    return OrderStatus(value)


MILESTONE_NAMES: tuple[str, ...] = (*(s.value for s in OrderStatus), DELAYED.value)


class NotificationState(StrEnum):
    """Where a Notification row stands: the outbox (pending, failed) and the log (the rest)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher, under a lease
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    BLOCKED = "blocked"
    SUPERSEDED = "superseded"


# Rows the dispatcher may still send (a failed row waits for its retry).
RETRYABLE_STATES: frozenset[NotificationState] = frozenset(
    {NotificationState.PENDING, NotificationState.FAILED}
)
