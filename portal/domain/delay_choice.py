"""A customer's answer to a delay's offer: when it may be recorded or changed. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ChoiceRefusal(StrEnum):
    """Why a choice is not recorded (each is answered with its own HTTP status)."""

    NOT_OFFERED = "not_offered"  # not one of the delay's alternatives: 400
    DELAY_CLOSED = "delay_closed"  # the delay is resolved: 409
    HANDLED = "handled"  # staff already acted on the choice: 409


def check_choice(
    *, delay_state: str, alternatives: Sequence[str], chosen: str, handled: bool
) -> ChoiceRefusal | None:
    """None when ``chosen`` may be recorded now (first time or as a change)."""
    if chosen not in alternatives:
        return ChoiceRefusal.NOT_OFFERED
    if delay_state != "open":
        return ChoiceRefusal.DELAY_CLOSED
    if handled:
        return ChoiceRefusal.HANDLED
    return None
