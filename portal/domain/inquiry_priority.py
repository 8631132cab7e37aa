"""Priority from the order: what about an order makes its customer's question more urgent.

Pure: the caller passes the order's facts and today's date in the customer's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .inquiries import Priority


@dataclass(frozen=True, slots=True)
class OrderUrgency:
    """The facts of an order that raise the priority of its inquiries."""

    status: str
    open_delay: bool = False
    attempt_failed: bool = False
    status_changed_on: date | None = None  # the local date the status last changed
    today: date | None = None


# (fact, the priority it raises an inquiry to at least, the reason recorded)
def urgency_floor(facts: OrderUrgency) -> tuple[Priority, str] | None:
    """The lowest priority an inquiry about this order may have, with why; None if no rule."""
    out_today = (
        facts.status == "out_for_delivery"
        and facts.today is not None
        and facts.status_changed_on == facts.today
    )
    if out_today:
        return Priority.URGENT, "out for delivery today"
    if facts.attempt_failed:
        return Priority.HIGH, "failed delivery attempt"
    if facts.open_delay:
        return Priority.HIGH, "open delay"
    return None


def raised_priority(current: Priority, facts: OrderUrgency) -> tuple[Priority, str] | None:
    """The new priority and its reason when the order's facts raise ``current``; else None."""
    floor = urgency_floor(facts)
    if floor is None or floor[0].rank <= current.rank:
        return None
    return floor
