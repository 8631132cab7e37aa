"""Each vocabulary is one enum: every table keyed by it covers it, and the presenters agree."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from carriers.status import ShipmentStatus
from portal.domain.status import FINAL, ORDER_RANK, OrderStatus, is_final, is_trouble
from portal.notify.gate import RANK, TERMINAL
from portal.notify.kinds import DELAYED, MILESTONE_NAMES, Announcement, parse_milestone
from portal.notify.wording import STATUS_LABELS, STATUS_MESSAGES, STATUS_WORDS
from portal.web.presenters import label, shows_delay


def test_every_status_has_a_label_a_message_and_words() -> None:
    for status in OrderStatus:
        assert status in STATUS_LABELS and status in STATUS_MESSAGES
        for words in STATUS_WORDS.values():
            assert status in words
    for shipment_status in ShipmentStatus:
        assert label(shipment_status) == STATUS_LABELS[shipment_status]


def test_milestones_are_the_order_statuses_and_delayed() -> None:
    assert set(MILESTONE_NAMES) == {s.value for s in OrderStatus} | {"delayed"}
    assert parse_milestone("delayed") is DELAYED is Announcement.DELAYED
    assert all(parse_milestone(s.value) is s for s in OrderStatus)
    with pytest.raises(ValueError):
        parse_milestone("lost")


def test_the_gate_uses_the_status_rules_tables() -> None:
    assert RANK is ORDER_RANK
    assert FINAL - {OrderStatus.DELIVERED} == TERMINAL


@pytest.mark.parametrize(
    ("status", "final"),
    [
        ("placed", False),
        ("out_for_delivery", False),
        ("delivered", True),
        ("returned", True),
        ("cancelled", True),
        ("returned_to_sender", True),
        ("exception", False),
        (None, False),
    ],
)
def test_is_final(status: str | None, final: bool) -> None:
    assert is_final(status) is final


@pytest.mark.parametrize(
    ("status", "trouble"),
    [("exception", True), ("attempt_failed", True), ("in_transit", False), (None, False)],
)
def test_is_trouble(status: str | None, trouble: bool) -> None:
    assert is_trouble(status) is trouble


@dataclass
class _Order:
    status: str
    open_delay: object | None


@pytest.mark.parametrize(
    ("status", "has_delay", "shown"),
    [
        ("in_transit", True, True),
        ("out_for_delivery", True, True),
        ("placed", True, True),
        ("in_transit", False, False),
        ("delivered", True, False),
        ("cancelled", True, False),
        ("returned", True, False),
    ],
)
def test_shows_delay_only_while_the_order_is_on_its_way(
    status: str, has_delay: bool, shown: bool
) -> None:
    assert shows_delay(_Order(status, object() if has_delay else None)) is shown
