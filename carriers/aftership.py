"""AfterShip Tracking webhooks (``tracking_update``, ``edd_revise``).

Authenticity: ``aftership-hmac-sha256``, the base64 HMAC-SHA256 of the raw body keyed with the
webhook secret as UTF-8. AfterShip signs no timestamp, so there is no replay window to check;
``event_id`` makes redeliveries harmless. Dedupe key: ``event_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from carriers.base import ParsedWebhook, PayloadError, TrackingUpdate
from carriers.jsonfields import (
    JsonObject,
    expect_object,
    load_json,
    optional_list,
    optional_object,
    optional_str,
    required_str,
)
from carriers.signing import b64_hmac, to_bytes, verify_body_hmac
from carriers.status import ReasonCode, ShipmentStatus
from carriers.timestamps import parse_calendar_date, parse_epoch, parse_instant
from carriers.updates import (
    default_message,
    infer_reason,
    make_location,
    ordered,
    settle,
    with_eta,
)

__all__ = ["SUBTAG_MAP", "TAG_MAP", "AfterShipAdapter", "map_tag"]

SIGNATURE_HEADER = "aftership-hmac-sha256"
# Events that carry nothing to apply; answered 2xx with no updates.
QUIET_EVENTS = frozenset({"tracking_pending_time"})

# AfterShip's nine delivery statuses ("tags").
TAG_MAP: dict[str, ShipmentStatus] = {
    # Pending: added, but the carrier has no information yet.
    "Pending": ShipmentStatus.PRE_TRANSIT,
    "InfoReceived": ShipmentStatus.PRE_TRANSIT,
    "InTransit": ShipmentStatus.IN_TRANSIT,
    "OutForDelivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "AttemptFail": ShipmentStatus.ATTEMPT_FAILED,
    "Delivered": ShipmentStatus.DELIVERED,
    "AvailableForPickup": ShipmentStatus.AVAILABLE_FOR_PICKUP,
    "Exception": ShipmentStatus.EXCEPTION,
    # Expired: no news for 30 days; the shop should treat it as a stuck parcel.
    "Expired": ShipmentStatus.EXCEPTION,
}

# Sub-statuses ("subtags") that say more than their tag. A subtag missing here falls back to
# its tag (the part before the underscore), so new AfterShip subtags still map sensibly.
SUBTAG_MAP: dict[str, tuple[ShipmentStatus, ReasonCode | None]] = {
    "Delivered_001": (ShipmentStatus.DELIVERED, None),
    "Delivered_002": (ShipmentStatus.DELIVERED, None),  # picked up by the customer
    "Delivered_003": (ShipmentStatus.DELIVERED, None),  # signed by the customer
    "Delivered_004": (ShipmentStatus.DELIVERED, None),  # cash on delivery collected
    "Delivered_005": (ShipmentStatus.DELIVERED, None),  # delivered to a neighbour
    "AvailableForPickup_001": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),
    "Exception_001": (ShipmentStatus.EXCEPTION, ReasonCode.OTHER),
    "Exception_002": (ShipmentStatus.EXCEPTION, ReasonCode.ADDRESS),  # customer moved
    "Exception_003": (ShipmentStatus.EXCEPTION, ReasonCode.REFUSED),
    "Exception_004": (ShipmentStatus.EXCEPTION, ReasonCode.CUSTOMS),
    "Exception_005": (ShipmentStatus.EXCEPTION, ReasonCode.OTHER),  # external factors
    "Exception_006": (ShipmentStatus.EXCEPTION, ReasonCode.PAYMENT),  # held for payment
    "Exception_007": (ShipmentStatus.EXCEPTION, ReasonCode.ADDRESS),
    "Exception_008": (ShipmentStatus.EXCEPTION, ReasonCode.RECIPIENT_UNAVAILABLE),  # not collected
    "Exception_009": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # rejected by carrier
    "Exception_010": (ShipmentStatus.RETURNED_TO_SENDER, None),  # returning to sender
    "Exception_011": (ShipmentStatus.RETURNED_TO_SENDER, None),  # returned to sender
    "Exception_012": (ShipmentStatus.EXCEPTION, ReasonCode.DAMAGED),
    "Exception_013": (ShipmentStatus.EXCEPTION, ReasonCode.LOST),
    "Exception_016": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # processing issue
    "Exception_017": (ShipmentStatus.EXCEPTION, ReasonCode.WEATHER),
    "Exception_018": (ShipmentStatus.EXCEPTION, ReasonCode.CUSTOMS),  # missing documents
    "Exception_019": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # late flight
    "Exception_020": (ShipmentStatus.CANCELLED, None),
    # Disposed: destroyed or discarded; for the customer the parcel is gone.
    "Exception_021": (ShipmentStatus.EXCEPTION, ReasonCode.LOST),
    "AttemptFail_001": (ShipmentStatus.ATTEMPT_FAILED, None),
    "AttemptFail_002": (ShipmentStatus.ATTEMPT_FAILED, ReasonCode.RECIPIENT_UNAVAILABLE),
    "AttemptFail_003": (ShipmentStatus.ATTEMPT_FAILED, ReasonCode.RECIPIENT_UNAVAILABLE),
    "InTransit_001": (ShipmentStatus.IN_TRANSIT, None),
    "InTransit_002": (ShipmentStatus.IN_TRANSIT, None),  # acceptance scan
    "InTransit_003": (ShipmentStatus.IN_TRANSIT, None),  # arrival scan
    "InTransit_004": (ShipmentStatus.IN_TRANSIT, None),  # arrived in destination country
    "InTransit_005": (ShipmentStatus.IN_TRANSIT, None),  # customs clearance completed
    "InTransit_006": (ShipmentStatus.IN_TRANSIT, None),  # customs clearance started
    "InTransit_007": (ShipmentStatus.IN_TRANSIT, None),  # departure scan
    "InTransit_008": (ShipmentStatus.IN_TRANSIT, None),  # problem resolved
    "InTransit_009": (ShipmentStatus.IN_TRANSIT, None),  # forwarded to another address
    "InfoReceived_001": (ShipmentStatus.PRE_TRANSIT, None),
    "OutForDelivery_001": (ShipmentStatus.OUT_FOR_DELIVERY, None),
    # Older AfterShip versions filed "arrived at sorting center, available for pickup" here.
    "OutForDelivery_002": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery_003": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # customer contacted
    "OutForDelivery_004": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # appointment scheduled
    "Pending_001": (ShipmentStatus.PRE_TRANSIT, None),
    "Expired_001": (ShipmentStatus.EXCEPTION, ReasonCode.OTHER),
}

# Estimated delivery fields, most authoritative first; within each, the date itself before
# the end of its window.
_ETA_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("latest_estimated_delivery", ("datetime", "datetime_max")),
    ("custom_estimated_delivery_date", ("datetime", "datetime_max")),
    ("courier_estimated_delivery_date", ("estimated_delivery_date", "estimated_delivery_date_max")),
    (
        "aftership_estimated_delivery_date",
        ("estimated_delivery_date", "estimated_delivery_date_max"),
    ),
    ("first_estimated_delivery", ("datetime", "datetime_max")),
)


def map_tag(tag: str | None, subtag: str | None) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Canonical status and reason for an AfterShip tag / subtag pair."""
    if subtag and subtag in SUBTAG_MAP:
        return SUBTAG_MAP[subtag]
    if not tag and subtag:
        tag = subtag.partition("_")[0]
    return TAG_MAP.get(tag or "", ShipmentStatus.UNKNOWN), None


def _raw_status(tag: str | None, subtag: str | None) -> str:
    return f"{tag or ''}/{subtag}" if subtag else tag or ""


class AfterShipAdapter:
    """Adapter for ``POST /webhooks/aftership``."""

    name = "aftership"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Check ``aftership-hmac-sha256`` against every configured secret."""
        verify_body_hmac(headers, SIGNATURE_HEADER, secrets, body)

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The header AfterShip would send with ``body``."""
        return {SIGNATURE_HEADER: b64_hmac(to_bytes(secret), body)}, {}

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """``tracking_update``: every checkpoint; ``edd_revise``: one update with the new ETA."""
        data = expect_object(load_json(body), "body")
        event_id = required_str(data.get("event_id"), "event_id")
        event = required_str(data.get("event"), "event")
        if event in QUIET_EVENTS:
            return ParsedWebhook(dedupe_key=event_id, updates=())
        if event not in ("tracking_update", "edd_revise"):
            raise PayloadError(f"event: unknown AfterShip event {event!r}")
        msg = expect_object(data.get("msg"), "msg")
        sent_at = parse_epoch(data["ts"], "ts") if data.get("ts") is not None else None
        if event == "edd_revise":
            updates = _eta_revision(msg, sent_at)
        else:
            updates = _checkpoint_updates(msg, sent_at)
        return ParsedWebhook(dedupe_key=event_id, updates=updates)


class _Tracking:
    """The fields of ``msg`` every update repeats."""

    def __init__(self, msg: JsonObject) -> None:
        self.tracking_number = required_str(msg.get("tracking_number"), "msg.tracking_number")
        self.carrier = required_str(msg.get("slug"), "msg.slug").lower()
        self.tag = optional_str(msg.get("tag"), "msg.tag")
        self.subtag = optional_str(msg.get("subtag"), "msg.subtag")
        self.subtag_message = optional_str(msg.get("subtag_message"), "msg.subtag_message")
        self.public_url = optional_str(
            msg.get("courier_tracking_link"), "msg.courier_tracking_link"
        )
        self.eta = _eta(msg)


def _eta(msg: JsonObject) -> date | None:
    for field, keys in _ETA_FIELDS:
        block = optional_object(msg.get(field), f"msg.{field}")
        if block is None:
            continue
        for key in keys:
            text = optional_str(block.get(key), f"msg.{field}.{key}")
            if text:
                return parse_calendar_date(text, f"msg.{field}.{key}")
    expected = optional_str(msg.get("expected_delivery"), "msg.expected_delivery")
    return parse_calendar_date(expected, "msg.expected_delivery") if expected else None


def _checkpoint_updates(msg: JsonObject, sent_at: datetime | None) -> tuple[TrackingUpdate, ...]:
    tracking = _Tracking(msg)
    updates: list[TrackingUpdate] = []
    for index, item in enumerate(optional_list(msg.get("checkpoints"), "msg.checkpoints")):
        where = f"msg.checkpoints[{index}]"
        point = expect_object(item, where)
        tag = optional_str(point.get("tag"), f"{where}.tag")
        subtag = optional_str(point.get("subtag"), f"{where}.subtag")
        message = optional_str(point.get("message"), f"{where}.message")
        subtag_message = optional_str(point.get("subtag_message"), f"{where}.subtag_message")
        status, reason = settle(*map_tag(tag, subtag), message, subtag_message)
        # Field names moved between webhook versions: zip became postal_code, country_iso3
        # became country_region.
        postal = optional_str(point.get("postal_code"), f"{where}.postal_code")
        postal = postal or optional_str(point.get("zip"), f"{where}.zip")
        country = optional_str(point.get("country_region"), f"{where}.country_region")
        country = country or optional_str(point.get("country_iso3"), f"{where}.country_iso3")
        updates.append(
            TrackingUpdate(
                tracking_number=tracking.tracking_number,
                carrier=tracking.carrier,
                status=status,
                # AfterShip gives the checkpoint's local time, with its offset when the carrier
                # provides one; without it the time is taken as UTC.
                occurred_at=parse_instant(
                    required_str(point.get("checkpoint_time"), f"{where}.checkpoint_time"),
                    f"{where}.checkpoint_time",
                ),
                message=message or subtag_message or default_message(status),
                carrier_status=_raw_status(tag, subtag),
                location=make_location(
                    city=optional_str(point.get("city"), f"{where}.city"),
                    region=optional_str(point.get("state"), f"{where}.state"),
                    postal_code=postal,
                    country=country,
                ),
                reason_code=reason,
                public_url=tracking.public_url,
            )
        )
    if not updates:
        # Pending and Expired trackings have no checkpoint; the tag itself is the news.
        if sent_at is None:
            raise PayloadError("ts: is required when msg.checkpoints is empty")
        status, reason = settle(*map_tag(tracking.tag, tracking.subtag), tracking.subtag_message)
        updates.append(
            TrackingUpdate(
                tracking_number=tracking.tracking_number,
                carrier=tracking.carrier,
                status=status,
                occurred_at=sent_at,
                message=tracking.subtag_message or default_message(status),
                carrier_status=_raw_status(tracking.tag, tracking.subtag),
                reason_code=reason,
                public_url=tracking.public_url,
            )
        )
    return with_eta(ordered(updates), tracking.eta)


def _eta_revision(msg: JsonObject, sent_at: datetime | None) -> tuple[TrackingUpdate, ...]:
    tracking = _Tracking(msg)
    if sent_at is None:
        raise PayloadError("ts: is required for edd_revise")
    latest = optional_object(msg.get("latest_estimated_delivery"), "msg.latest_estimated_delivery")
    why = None
    if latest is not None:
        why = optional_str(
            latest.get("revise_reason"), "msg.latest_estimated_delivery.revise_reason"
        )
    status, reason = settle(*map_tag(tracking.tag, tracking.subtag), tracking.subtag_message)
    if why and reason is None:
        # A revised estimate with a reason is a delay report (extreme_weather, customs_clearance,
        # carrier_processing ...), even while the parcel keeps moving.
        reason = infer_reason(why.replace("_", " ")) or ReasonCode.OTHER
    message = "Estimated delivery date revised"
    if why:
        message = f"{message} ({why.replace('_', ' ')})"
    update = TrackingUpdate(
        tracking_number=tracking.tracking_number,
        carrier=tracking.carrier,
        status=status,
        occurred_at=sent_at,
        message=message,
        carrier_status=_raw_status(tracking.tag, tracking.subtag),
        reason_code=reason,
        estimated_delivery=tracking.eta,
        public_url=tracking.public_url,
    )
    return (update,)
