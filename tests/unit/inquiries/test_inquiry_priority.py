"""Priority from the order's own state, table-driven."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.inquiries import Priority as P
from portal.domain.inquiry_priority import OrderUrgency, raised_priority

TODAY = date(2027, 3, 2)
YESTERDAY = date(2027, 3, 1)

TABLE = [
    (P.NORMAL, OrderUrgency("in_transit"), None),
    (P.NORMAL, OrderUrgency("in_transit", open_delay=True), (P.HIGH, "open delay")),
    (P.LOW, OrderUrgency("shipped", attempt_failed=True), (P.HIGH, "failed delivery attempt")),
    (P.HIGH, OrderUrgency("in_transit", open_delay=True), None),  # already as high
    (P.URGENT, OrderUrgency("in_transit", open_delay=True), None),  # never lowered
    (
        P.NORMAL,
        OrderUrgency("out_for_delivery", status_changed_on=TODAY, today=TODAY),
        (P.URGENT, "out for delivery today"),
    ),
    (P.NORMAL, OrderUrgency("out_for_delivery", status_changed_on=YESTERDAY, today=TODAY), None),
    (
        P.HIGH,
        OrderUrgency("out_for_delivery", open_delay=True, status_changed_on=TODAY, today=TODAY),
        (P.URGENT, "out for delivery today"),
    ),
]


@pytest.mark.parametrize(("current", "facts", "expected"), TABLE)
def test_raised_priority(current: P, facts: OrderUrgency, expected: tuple[P, str] | None) -> None:
    assert raised_priority(current, facts) == expected
