"""The shared types, errors and the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from carriers.base import (
    CarrierAdapter,
    Location,
    PayloadError,
    SignatureError,
    TrackingUpdate,
    WebhookError,
)
from carriers.registry import ADAPTERS, get_adapter
from carriers.status import ReasonCode, ShipmentStatus
from carriers.updates import digest, infer_reason, make_location, settle


@pytest.mark.parametrize(
    ("location", "label"),
    [
        (Location(city="Leipzig", region="SN", country="DE"), "Leipzig, SN, DE"),
        (
            Location(city="Charlotte", region="NC", postal_code="28209", country="US"),
            "Charlotte, NC 28209, US",
        ),
        (Location(city="Leipzig"), "Leipzig"),
        (Location(country="DE"), "DE"),
        (Location(postal_code="04109"), "04109"),
        (Location(), ""),
    ],
)
def test_location_label_skips_empty_parts(location: Location, label: str) -> None:
    assert location.label() == label


def test_make_location_is_none_when_empty_and_uppercases_country() -> None:
    assert make_location() is None
    assert make_location(country="de") == Location(country="DE")


def _update(occurred_at: datetime) -> TrackingUpdate:
    return TrackingUpdate(
        tracking_number="X1",
        carrier="dhl",
        status=ShipmentStatus.IN_TRANSIT,
        occurred_at=occurred_at,
        message="m",
        carrier_status="in_transit",
    )


def test_tracking_update_requires_utc() -> None:
    assert _update(datetime(2027, 3, 2, tzinfo=UTC)).occurred_at.tzinfo is UTC
    with pytest.raises(ValueError, match="UTC"):
        _update(datetime(2027, 3, 2))
    with pytest.raises(ValueError, match="UTC"):
        _update(datetime(2027, 3, 2, tzinfo=timezone(timedelta(hours=1))))


def test_updates_are_frozen_and_hashable() -> None:
    update = _update(datetime(2027, 3, 2, tzinfo=UTC))
    with pytest.raises(AttributeError):
        update.message = "changed"  # type: ignore[misc]
    assert len({update, _update(datetime(2027, 3, 2, tzinfo=UTC))}) == 1


def test_errors_carry_code_and_message() -> None:
    assert SignatureError("bad").code == "signature_invalid"
    assert PayloadError("bad").code == "invalid_payload"
    error = PayloadError("status: unknown")
    assert isinstance(error, WebhookError)
    assert error.message == "status: unknown"
    assert str(error) == "status: unknown"


def test_registry_has_exactly_the_public_adapters() -> None:
    assert set(ADAPTERS) == {"easypost", "aftership", "shippo", "ups", "fedex", "generic"}
    for name, adapter in ADAPTERS.items():
        assert adapter.name == name
        assert isinstance(adapter, CarrierAdapter)
    with pytest.raises(TypeError):
        ADAPTERS["x"] = ADAPTERS["ups"]  # type: ignore[index]


@pytest.mark.parametrize(("segment", "expected"), [("ups", "ups"), ("UPS", "ups"), ("nope", None)])
def test_get_adapter(segment: str, expected: str | None) -> None:
    adapter = get_adapter(segment)
    assert (adapter.name if adapter else None) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Severe weather conditions", ReasonCode.WEATHER),
        ("Held for payment of duties", ReasonCode.PAYMENT),
        ("Held by customs", ReasonCode.CUSTOMS),
        ("Incorrect address", ReasonCode.ADDRESS),
        ("Package damaged", ReasonCode.DAMAGED),
        ("Package lost", ReasonCode.LOST),
        ("Refused by recipient", ReasonCode.REFUSED),
        ("Notice left, nobody home", ReasonCode.RECIPIENT_UNAVAILABLE),
        ("Package on hold", ReasonCode.HELD),
        ("Missorted", ReasonCode.CARRIER),
        ("Something happened", None),
        ("", None),
    ],
)
def test_infer_reason(text: str, reason: ReasonCode | None) -> None:
    assert infer_reason(text) is reason


def test_settle_gives_every_exception_a_reason_and_leaves_progress_alone() -> None:
    assert settle(ShipmentStatus.EXCEPTION, None, "huh") == (
        ShipmentStatus.EXCEPTION,
        ReasonCode.OTHER,
    )
    assert settle(ShipmentStatus.ATTEMPT_FAILED, None, "Business closed") == (
        ShipmentStatus.ATTEMPT_FAILED,
        ReasonCode.RECIPIENT_UNAVAILABLE,
    )
    assert settle(ShipmentStatus.EXCEPTION, ReasonCode.LOST, "weather") == (
        ShipmentStatus.EXCEPTION,
        ReasonCode.LOST,
    )
    assert settle(ShipmentStatus.IN_TRANSIT, None, "weather") == (ShipmentStatus.IN_TRANSIT, None)


def test_digest_separates_parts() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a", "b") == digest("a", "b")
