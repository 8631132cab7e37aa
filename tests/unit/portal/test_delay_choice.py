"""portal.services.delay_choice and portal.domain.delay_choice: the pure rules."""

from __future__ import annotations

import pytest

from portal.domain.delay_choice import check_choice
from portal.services.delay_choice import choice_summary


@pytest.mark.parametrize(
    ("state", "offered", "chosen", "handled", "refusal"),
    [
        ("open", ["pickup_point", "cancel"], "pickup_point", False, None),
        ("open", ["pickup_point", "cancel"], "refund", False, "not_offered"),
        ("open", [], "pickup_point", False, "not_offered"),
        ("open", ["cancel"], "", False, "not_offered"),
        ("resolved", ["cancel"], "cancel", False, "delay_closed"),
        ("open", ["cancel"], "cancel", True, "handled"),
        ("resolved", ["cancel"], "refund", True, "not_offered"),  # a bad choice is 400 first
    ],
)
def test_check_choice(
    state: str, offered: list[str], chosen: str, handled: bool, refusal: str | None
) -> None:
    found = check_choice(delay_state=state, alternatives=offered, chosen=chosen, handled=handled)
    assert (found.value if found else None) == refusal


def test_choice_summary() -> None:
    assert choice_summary("weather", "10% off", None, "pickup_point") == (
        "Customer chose 'collect the parcel from a pickup point' for the weather delay "
        "(offered: 10% off)"
    )
    assert choice_summary("customs", None, "pickup_point", "cancel") == (
        "Customer changed the choice for the customs delay from "
        "'collect the parcel from a pickup point' to 'cancel the order for a full refund'"
    )
