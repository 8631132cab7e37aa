"""Building blocks the adapters share when they turn checkpoints into ``TrackingUpdate``s."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from carriers.base import Location, TrackingUpdate
from carriers.status import ReasonCode, ShipmentStatus

__all__ = [
    "DEFAULT_MESSAGES",
    "REASON_KEYWORDS",
    "default_message",
    "digest",
    "infer_reason",
    "make_location",
    "ordered",
    "settle",
    "with_eta",
]

# Checked in order, first hit wins. Payment comes before customs because "held for payment
# of duties" is a payment problem the customer can fix; held comes late because "held" also
# appears in more specific texts ("held by customs").
REASON_KEYWORDS: tuple[tuple[ReasonCode, tuple[str, ...]], ...] = (
    (
        ReasonCode.WEATHER,
        ("weather", "storm", "snow", "flood", "hurricane", "heavy rain", "strong wind"),
    ),
    (ReasonCode.PAYMENT, ("payment", "unpaid", "cash on delivery", "charges due")),
    (ReasonCode.CUSTOMS, ("customs", "clearance", "document", "broker")),
    (ReasonCode.ADDRESS, ("address", "moved", "wrong location", "location inaccessible")),
    (ReasonCode.DAMAGED, ("damage",)),
    (ReasonCode.LOST, ("lost", "disposed", "destroyed")),
    (ReasonCode.REFUSED, ("refus", "rejected by recipient", "declined")),
    (
        ReasonCode.RECIPIENT_UNAVAILABLE,
        (
            "not available",
            "unavailable",
            "not home",
            "no one",
            "nobody",
            "business closed",
            "notice left",
            "not collected",
            "unclaimed",
        ),
    ),
    (ReasonCode.HELD, ("held", "on hold")),
    (ReasonCode.CARRIER, ("delay", "missort", "mis-sort", "mechanical", "flight", "carrier")),
)

DEFAULT_MESSAGES: dict[ShipmentStatus, str] = {
    ShipmentStatus.PRE_TRANSIT: "Shipping label created",
    ShipmentStatus.IN_TRANSIT: "In transit",
    ShipmentStatus.OUT_FOR_DELIVERY: "Out for delivery",
    ShipmentStatus.AVAILABLE_FOR_PICKUP: "Available for pickup",
    ShipmentStatus.DELIVERED: "Delivered",
    ShipmentStatus.ATTEMPT_FAILED: "Delivery attempted",
    ShipmentStatus.EXCEPTION: "Shipment exception",
    ShipmentStatus.RETURNED_TO_SENDER: "Returned to sender",
    ShipmentStatus.CANCELLED: "Shipment cancelled",
    ShipmentStatus.UNKNOWN: "Tracking update",
}

_NEEDS_REASON = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.ATTEMPT_FAILED})


def infer_reason(*texts: str | None) -> ReasonCode | None:
    """A reason guessed from carrier wording, for codes that do not carry one themselves."""
    haystack = " ".join(text for text in texts if text).lower()
    if not haystack:
        return None
    for reason, keywords in REASON_KEYWORDS:
        if any(keyword in haystack for keyword in keywords):
            return reason
    return None


def settle(
    status: ShipmentStatus, reason: ReasonCode | None, *texts: str | None
) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Make sure every exception and failed attempt carries a reason.

    The portal opens a delay for these and must tell the customer why; when the code says
    nothing, the carrier's wording is the next best source, and ``other`` the last.
    """
    if status in _NEEDS_REASON and reason is None:
        reason = infer_reason(*texts) or ReasonCode.OTHER
    return status, reason


def default_message(status: ShipmentStatus) -> str:
    """A neutral text for checkpoints that came without one."""
    return DEFAULT_MESSAGES[status]


def make_location(
    city: str | None = None,
    region: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
) -> Location | None:
    """A ``Location`` from optional parts; None when the carrier gave none."""
    if country and len(country) <= 3:
        country = country.upper()
    location = Location(city=city, region=region, postal_code=postal_code, country=country)
    return None if location.is_empty() else location


def digest(*parts: str) -> str:
    """A stable SHA-256 hex of ``parts``; a unit separator keeps ("ab", "c") from ("a", "bc")."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def ordered(updates: Iterable[TrackingUpdate]) -> tuple[TrackingUpdate, ...]:
    """Oldest first, exact repeats dropped (providers often repeat the current checkpoint)."""
    unique: dict[TrackingUpdate, None] = {}
    for update in updates:
        unique.setdefault(update, None)
    return tuple(sorted(unique, key=lambda update: update.occurred_at))


def with_eta(updates: tuple[TrackingUpdate, ...], eta: date | None) -> tuple[TrackingUpdate, ...]:
    """Put a webhook-level estimated delivery date on its newest update.

    The estimate is the provider's view as of this delivery, not a property of an old
    checkpoint, so only the newest one carries it.
    """
    if eta is None or not updates:
        return updates
    return (*updates[:-1], replace(updates[-1], estimated_delivery=eta))
