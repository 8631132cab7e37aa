"""Linking an unmatched inquiry to an order: whether its sender is the order's customer.

Pure. The sender is compared with the order's customer email (case and surrounding space
ignored) before anything of the order reaches the sender; an agent who links a mail from
another address must say so explicitly (``confirmed``).
"""

from __future__ import annotations

from enum import StrEnum


class SenderCheck(StrEnum):
    MATCHED = "matched"  # the sender is the order's customer
    CONFIRMED = "confirmed"  # another address (or none): linked because the agent confirmed


def same_address(a: str | None, b: str | None) -> bool:
    """Two email addresses name the same mailbox (empty never matches)."""
    left, right = (a or "").strip().lower(), (b or "").strip().lower()
    return bool(left) and left == right


def check_sender(sender: str | None, customer: str | None, *, confirmed: bool) -> SenderCheck:
    """How a link may go ahead; ``SenderMismatch`` when it may not without confirmation."""
    if same_address(sender, customer):
        return SenderCheck.MATCHED
    if confirmed:
        return SenderCheck.CONFIRMED
    raise SenderMismatch(sender)


class SenderMismatch(ValueError):
    """The inquiry's sender is not the order's customer and the agent did not confirm."""

    def __init__(self, sender: str | None) -> None:
        who = sender or "an unknown sender"
        super().__init__(
            f"the inquiry came from {who}, which is not this order's customer: check that it "
            "is the same person, then confirm to link it anyway"
        )
