"""A new shipment's item arithmetic: which items it carries, checked against what is left."""

from __future__ import annotations

import pytest

from portal.errors import Conflict, ValidationFailed
from portal.models import OrderItem
from portal.schemas import ShipmentItemIn
from portal.services.shipped_items import shipment_lines

MUG = OrderItem(id=1, order_id=1, position=0, sku="MUG-1", name="Blue mug", quantity=2)
TEA = OrderItem(id=2, order_id=1, position=1, sku="TEA-7", name="Tea", quantity=1)


def test_no_items_named_ships_everything_left() -> None:
    remaining = {"MUG-1": (MUG, 1), "TEA-7": (TEA, 0)}
    assert shipment_lines(remaining, None) == [(MUG, 1)]


def test_nothing_left_to_ship_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="already shipped"):
        shipment_lines({"MUG-1": (MUG, 0)}, None)


def test_named_items_ship_as_asked() -> None:
    remaining = {"MUG-1": (MUG, 2), "TEA-7": (TEA, 1)}
    wanted = [ShipmentItemIn(sku="TEA-7", quantity=1), ShipmentItemIn(sku="MUG-1", quantity=1)]
    assert shipment_lines(remaining, wanted) == [(TEA, 1), (MUG, 1)]


def test_each_wrong_line_is_named() -> None:
    remaining = {"MUG-1": (MUG, 1)}
    wanted = [ShipmentItemIn(sku="MUG-1", quantity=2), ShipmentItemIn(sku="PEN", quantity=1)]
    with pytest.raises(ValidationFailed) as raised:
        shipment_lines(remaining, wanted)
    assert raised.value.details == [
        {"loc": ["items", 0, "quantity"], "msg": "only 1 of 'MUG-1' left to ship"},
        {"loc": ["items", 1, "sku"], "msg": "sku 'PEN' is not on this order"},
    ]
