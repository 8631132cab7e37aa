"""The status rules, table-driven: every allowed and refused move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carriers.status import ShipmentStatus as S
from portal.domain.status import (
    OrderStatus as O,
)
from portal.domain.status import (
    ShipmentState,
    apply_checkpoint,
    check_can_ship,
    check_shop_transition,
    derive_order_status,
)
from portal.errors import InvalidTransition

T0 = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)

# (current, target, outcome): True = moves, False = no change, "error" = refused
SHOP_TABLE = [
    (O.PLACED, O.PROCESSING, True),
    (O.PLACED, O.PACKED, True),
    (O.PLACED, O.CANCELLED, True),
    (O.PLACED, O.PLACED, "error"),  # placed is not shop-settable
    (O.PROCESSING, O.PROCESSING, False),
    (O.PROCESSING, O.PACKED, True),
    (O.PROCESSING, O.CANCELLED, True),
    (O.PACKED, O.PROCESSING, "error"),
    (O.PACKED, O.PACKED, False),
    (O.PACKED, O.CANCELLED, True),
    (O.SHIPPED, O.CANCELLED, "error"),
    (O.SHIPPED, O.PACKED, "error"),
    (O.IN_TRANSIT, O.PROCESSING, "error"),
    (O.OUT_FOR_DELIVERY, O.CANCELLED, "error"),
    (O.DELIVERED, O.CANCELLED, "error"),
    (O.DELIVERED, O.PACKED, "error"),
    (O.CANCELLED, O.PROCESSING, "error"),
    (O.CANCELLED, O.CANCELLED, False),
    (O.RETURNED, O.PACKED, "error"),
    (O.PLACED, O.SHIPPED, "error"),
    (O.PLACED, O.DELIVERED, "error"),
]


@pytest.mark.parametrize(("current", "target", "outcome"), SHOP_TABLE)
def test_shop_transitions(current: O, target: O, outcome: object) -> None:
    if outcome == "error":
        with pytest.raises(InvalidTransition):
            check_shop_transition(current, target)
    else:
        assert check_shop_transition(current, target) is outcome


def test_refusal_messages_say_why() -> None:
    with pytest.raises(InvalidTransition, match="backward"):
        check_shop_transition(O.PACKED, O.PROCESSING)
    with pytest.raises(InvalidTransition, match="only before it ships"):
        check_shop_transition(O.SHIPPED, O.CANCELLED)
    with pytest.raises(InvalidTransition, match="follows from shipments"):
        check_shop_transition(O.PACKED, O.DELIVERED)


@pytest.mark.parametrize("status", [O.DELIVERED, O.CANCELLED, O.RETURNED])
def test_no_shipment_on_final_orders(status: O) -> None:
    with pytest.raises(InvalidTransition):
        check_can_ship(status)


@pytest.mark.parametrize("status", [O.PLACED, O.PROCESSING, O.PACKED, O.SHIPPED, O.IN_TRANSIT])
def test_shipments_allowed_before_the_end(status: O) -> None:
    check_can_ship(status)


def state(status: S, milestone: S | None = None, at: datetime | None = T0) -> ShipmentState:
    return ShipmentState(status, milestone or status, at)


# (state, incoming status, applied, new status, new milestone, opens delay)
CHECKPOINTS = [
    (state(S.PRE_TRANSIT, at=None), S.IN_TRANSIT, True, S.IN_TRANSIT, S.IN_TRANSIT, False),
    (state(S.PRE_TRANSIT), S.OUT_FOR_DELIVERY, True, S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, False),
    (state(S.PRE_TRANSIT), S.DELIVERED, True, S.DELIVERED, S.DELIVERED, False),
    (state(S.IN_TRANSIT), S.IN_TRANSIT, True, S.IN_TRANSIT, S.IN_TRANSIT, False),
    (state(S.IN_TRANSIT), S.PRE_TRANSIT, False, S.IN_TRANSIT, S.IN_TRANSIT, False),
    (state(S.OUT_FOR_DELIVERY), S.IN_TRANSIT, False, S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, False),
    (
        state(S.OUT_FOR_DELIVERY),
        S.AVAILABLE_FOR_PICKUP,
        True,
        S.AVAILABLE_FOR_PICKUP,
        S.AVAILABLE_FOR_PICKUP,
        False,
    ),
    (
        state(S.AVAILABLE_FOR_PICKUP),
        S.OUT_FOR_DELIVERY,
        True,
        S.OUT_FOR_DELIVERY,
        S.OUT_FOR_DELIVERY,
        False,
    ),
    (state(S.IN_TRANSIT), S.EXCEPTION, True, S.EXCEPTION, S.IN_TRANSIT, True),
    (state(S.OUT_FOR_DELIVERY), S.ATTEMPT_FAILED, True, S.ATTEMPT_FAILED, S.OUT_FOR_DELIVERY, True),
    (state(S.EXCEPTION, S.IN_TRANSIT), S.IN_TRANSIT, True, S.IN_TRANSIT, S.IN_TRANSIT, False),
    (state(S.EXCEPTION, S.IN_TRANSIT), S.PRE_TRANSIT, False, S.EXCEPTION, S.IN_TRANSIT, False),
    (state(S.IN_TRANSIT), S.UNKNOWN, False, S.IN_TRANSIT, S.IN_TRANSIT, False),
    (state(S.DELIVERED), S.IN_TRANSIT, False, S.DELIVERED, S.DELIVERED, False),
    (state(S.DELIVERED), S.EXCEPTION, False, S.DELIVERED, S.DELIVERED, False),
    (
        state(S.IN_TRANSIT),
        S.RETURNED_TO_SENDER,
        True,
        S.RETURNED_TO_SENDER,
        S.RETURNED_TO_SENDER,
        False,
    ),
    (state(S.PRE_TRANSIT), S.CANCELLED, True, S.CANCELLED, S.CANCELLED, False),
    (state(S.IN_TRANSIT), S.CANCELLED, False, S.IN_TRANSIT, S.IN_TRANSIT, False),
]


@pytest.mark.parametrize(
    ("before", "incoming", "applied", "status", "milestone", "delay"), CHECKPOINTS
)
def test_checkpoints(
    before: ShipmentState, incoming: S, applied: bool, status: S, milestone: S, delay: bool
) -> None:
    decision = apply_checkpoint(before, incoming, T0 + timedelta(hours=1))
    assert decision.applied is applied
    assert decision.state.status == status
    assert decision.state.milestone == milestone
    assert decision.opens_delay is delay


def test_an_older_checkpoint_moves_nothing() -> None:
    before = state(S.IN_TRANSIT, at=T0)
    decision = apply_checkpoint(before, S.DELIVERED, T0 - timedelta(minutes=1))
    assert not decision.applied
    assert decision.state == before
    assert "older" in decision.why


def test_equal_time_checkpoint_still_applies() -> None:
    decision = apply_checkpoint(state(S.IN_TRANSIT, at=T0), S.OUT_FOR_DELIVERY, T0)
    assert decision.applied


# (current order status, shipment milestones, all items shipped, expected)
DERIVE = [
    (O.PACKED, [], True, O.PACKED),
    (O.PACKED, [S.PRE_TRANSIT], True, O.SHIPPED),
    (O.PLACED, [S.IN_TRANSIT], True, O.IN_TRANSIT),
    (O.SHIPPED, [S.IN_TRANSIT, S.PRE_TRANSIT], True, O.SHIPPED),
    (O.SHIPPED, [S.OUT_FOR_DELIVERY, S.IN_TRANSIT], True, O.IN_TRANSIT),
    (O.IN_TRANSIT, [S.DELIVERED, S.IN_TRANSIT], True, O.IN_TRANSIT),
    (O.IN_TRANSIT, [S.DELIVERED, S.OUT_FOR_DELIVERY], True, O.OUT_FOR_DELIVERY),
    (O.OUT_FOR_DELIVERY, [S.DELIVERED, S.DELIVERED], True, O.DELIVERED),
    (O.IN_TRANSIT, [S.DELIVERED], False, O.IN_TRANSIT),  # items left to ship: not delivered
    (O.OUT_FOR_DELIVERY, [S.IN_TRANSIT], True, O.OUT_FOR_DELIVERY),  # never backward
    (O.OUT_FOR_DELIVERY, [S.AVAILABLE_FOR_PICKUP], True, O.AVAILABLE_FOR_PICKUP),
    (O.DELIVERED, [S.IN_TRANSIT], True, O.DELIVERED),
    (O.CANCELLED, [S.DELIVERED], True, O.CANCELLED),
    (O.IN_TRANSIT, [S.RETURNED_TO_SENDER], True, O.RETURNED),
    (O.IN_TRANSIT, [S.RETURNED_TO_SENDER, S.DELIVERED], True, O.DELIVERED),
    (O.SHIPPED, [S.CANCELLED], True, O.SHIPPED),
    (O.PACKED, [S.CANCELLED, S.IN_TRANSIT], True, O.IN_TRANSIT),
]


@pytest.mark.parametrize(("current", "milestones", "all_shipped", "expected"), DERIVE)
def test_order_status_from_shipments(
    current: O, milestones: list[S], all_shipped: bool, expected: O
) -> None:
    assert derive_order_status(current, milestones, all_shipped) == expected
