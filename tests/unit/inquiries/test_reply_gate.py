"""The accuracy gate on agents' replies: never superseded by the order's progress, and free
text in which "None" is a word is not taken for an unfilled template field."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.status import OrderStatus
from portal.notify.gate import Notice, OrderFacts, Outcome, check
from portal.notify.kinds import Channel, NotificationKind

URL = "https://shop.example/t/abc"


def reply(text: str, subject: str = "Shop: an answer about your order A1") -> Notice:
    return Notice(
        kind=NotificationKind.INQUIRY_REPLY,
        channel=Channel.EMAIL,
        recipient="ada@example.com",
        milestone=OrderStatus.IN_TRANSIT,
        subject=subject,
        text=f"{text}\n{URL}",
        portal_url=URL,
    )


@pytest.mark.parametrize(
    "status", [OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED]
)
def test_a_reply_is_due_whatever_the_order_did_since(status: OrderStatus) -> None:
    facts = OrderFacts(status=status, portal_link_valid=True, today=date(2027, 3, 2))
    assert check(reply("It was delivered to your neighbour."), facts).ok


def test_none_in_a_reply_is_a_word_but_template_syntax_still_blocks() -> None:
    facts = OrderFacts(
        status=OrderStatus.IN_TRANSIT, portal_link_valid=True, today=date(2027, 3, 2)
    )
    assert check(reply("None of your items is lost."), facts).ok
    assert check(reply("Hello {{ customer_name }}"), facts).outcome is Outcome.BLOCKED
    assert check(reply("fine", subject="Shop: None"), facts).outcome is Outcome.BLOCKED
