"""The sender check before an unmatched inquiry is linked to an order."""

from __future__ import annotations

import pytest

from portal.domain.inquiry_link import SenderCheck, SenderMismatch, check_sender, same_address


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("ana@example.com", "ana@example.com", True),
        (" Ana@Example.COM ", "ana@example.com", True),
        ("ana@example.com", "ana@example.org", False),
        (None, None, False),
        ("", "", False),
        ("ana@example.com", None, False),
    ],
)
def test_same_address(a: str | None, b: str | None, same: bool) -> None:
    assert same_address(a, b) is same


def test_the_customer_links_without_confirmation() -> None:
    assert (
        check_sender("ANA@example.com", "ana@example.com", confirmed=False) is SenderCheck.MATCHED
    )


def test_another_sender_needs_confirmation_and_is_named() -> None:
    with pytest.raises(SenderMismatch, match=r"bob@example\.net"):
        check_sender("bob@example.net", "ana@example.com", confirmed=False)
    assert (
        check_sender("bob@example.net", "ana@example.com", confirmed=True) is SenderCheck.CONFIRMED
    )


def test_an_order_without_an_email_never_matches() -> None:
    with pytest.raises(SenderMismatch):
        check_sender("ana@example.com", None, confirmed=False)
