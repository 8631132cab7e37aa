"""Pure formatting for pages: labels, masking, local times, progress steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from ..domain.status import MILESTONES, ORDER_RANK, OrderStatus, is_final
from ..domain.status import is_trouble as is_trouble  # re-exported for the templates
from ..notify.wording import ALTERNATIVE_WORDS, REASON_WORDS, STATUS_LABELS
from ..timezones import zone


class _OrderWithDelay(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def open_delay(self) -> object | None: ...


def shows_delay(order: _OrderWithDelay) -> bool:
    """Does the page say the order is delayed? Only while it has an open delay and is not
    final: a delivered, cancelled or returned order is no longer on its way."""
    return order.open_delay is not None and not is_final(order.status)


def label(value: str | None) -> str:
    if not value:
        return ""
    return STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def reason_label(value: str | None) -> str:
    """The delay reason in words (the same wording the notifications use)."""
    if not value:
        return ""
    return _sentence_case(REASON_WORDS["en"].get(value, value.replace("_", " ")))


def alternative_label(value: str) -> str:
    return _sentence_case(ALTERNATIVE_WORDS["en"].get(value, value.replace("_", " ")))


def mask_email(email: str) -> str:
    """a***@example.com: enough for a customer to recognise, not enough to harvest."""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_time(moment: datetime, tz_name: str) -> str:
    """``Thu 3 Dec 2026, 12:22`` in the zone named (strftime's "%a %-d %b %Y, %H:%M" in
    English, at half its cost: an order screen formats some 800 of these)."""
    t = moment.astimezone(zone(tz_name))
    day = f"{_DAYS[t.weekday()]} {t.day} {_MONTHS[t.month - 1]} {t.year}"
    return f"{day}, {t.hour:02d}:{t.minute:02d}"


def long_date(day: date | None) -> str:
    return day.strftime("%A %-d %B %Y") if day else ""


@dataclass(frozen=True, slots=True)
class Step:
    status: str
    label: str
    state: str  # done, current, todo


def progress_steps(status: str) -> list[Step]:
    """The milestone bar: pickup replaces out-for-delivery when that is where the parcel is."""
    current = OrderStatus(status)
    steps = [
        OrderStatus.AVAILABLE_FOR_PICKUP
        if s == OrderStatus.OUT_FOR_DELIVERY and current == OrderStatus.AVAILABLE_FOR_PICKUP
        else s
        for s in MILESTONES
    ]
    stopped = current in (OrderStatus.CANCELLED, OrderStatus.RETURNED)
    rank = -1 if stopped else ORDER_RANK[current]
    out = []
    for step in steps:
        r = ORDER_RANK[step]
        state = "done" if r < rank else "current" if r == rank else "todo"
        if step == OrderStatus.DELIVERED and current == OrderStatus.DELIVERED:
            state = "done"
        out.append(Step(step.value, label(step.value), state))
    return out
