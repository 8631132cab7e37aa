"""EasyPost tracker webhooks (``tracker.created`` / ``tracker.updated`` events).

Authenticity: ``X-Hmac-Signature: hmac-sha256-hex=<hex>``, an HMAC-SHA256 of the raw body keyed
with the NFKD-normalised webhook secret (EasyPost's client libraries normalise it the same way).
Dedupe key: the event ``id`` (``evt_...``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime

from carriers.base import (
    Location,
    ParsedWebhook,
    PayloadError,
    SignatureError,
    SignatureMissing,
    TrackingUpdate,
)
from carriers.jsonfields import (
    JsonObject,
    expect_object,
    load_json,
    optional_list,
    optional_object,
    optional_str,
    required_str,
)
from carriers.signing import header, hex_hmac, matches_any, to_bytes, usable_secrets
from carriers.status import ReasonCode, ShipmentStatus
from carriers.timestamps import parse_calendar_date, parse_instant
from carriers.updates import default_message, make_location, ordered, settle, with_eta

__all__ = ["DETAIL_MAP", "STATUS_MAP", "EasyPostAdapter", "map_status"]

SIGNATURE_HEADER = "X-Hmac-Signature"
_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})

# EasyPost's ten tracker statuses.
STATUS_MAP: dict[str, ShipmentStatus] = {
    "unknown": ShipmentStatus.UNKNOWN,
    "pre_transit": ShipmentStatus.PRE_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "available_for_pickup": ShipmentStatus.AVAILABLE_FOR_PICKUP,
    "return_to_sender": ShipmentStatus.RETURNED_TO_SENDER,
    # "failure" is EasyPost's word for a delivery that could not be completed.
    "failure": ShipmentStatus.EXCEPTION,
    "cancelled": ShipmentStatus.CANCELLED,
    # "error" means EasyPost could not track the code, which says nothing about the parcel.
    "error": ShipmentStatus.UNKNOWN,
}

# status_detail refines the status: (status that replaces it or None to keep it, reason).
# Plain progress details keep the status, so a returning parcel "departed_facility" stays a
# return.
DETAIL_MAP: dict[str, tuple[ShipmentStatus | None, ReasonCode | None]] = {
    "address_correction": (None, ReasonCode.ADDRESS),
    "arrived_at_destination": (None, None),
    "arrived_at_facility": (None, None),
    "arrived_at_pickup_location": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),
    "awaiting_information": (None, None),
    "cancelled": (ShipmentStatus.CANCELLED, None),
    "damaged": (ShipmentStatus.EXCEPTION, ReasonCode.DAMAGED),
    "delayed": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),
    # EasyPost reports notices left and "no access" attempts as delivery_exception.
    "delivery_exception": (ShipmentStatus.ATTEMPT_FAILED, None),
    "departed_facility": (None, None),
    "departed_origin_facility": (None, None),
    "expired": (None, None),
    "failure": (ShipmentStatus.EXCEPTION, None),
    "held": (ShipmentStatus.EXCEPTION, ReasonCode.HELD),
    "in_transit": (None, None),
    "label_created": (ShipmentStatus.PRE_TRANSIT, None),
    "lost": (ShipmentStatus.EXCEPTION, ReasonCode.LOST),
    "missorted": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),
    "out_for_delivery": (ShipmentStatus.OUT_FOR_DELIVERY, None),
    "received_at_destination_facility": (None, None),
    "received_at_origin_facility": (None, None),
    "refused": (ShipmentStatus.EXCEPTION, ReasonCode.REFUSED),
    "return": (ShipmentStatus.RETURNED_TO_SENDER, None),
    "status_update": (None, None),
    "transferred_to_destination_carrier": (None, None),
    "transit_exception": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),
    "unknown": (None, None),
    "weather_delay": (ShipmentStatus.EXCEPTION, ReasonCode.WEATHER),
}


def map_status(status: str | None, detail: str | None) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Canonical status and reason for an EasyPost ``status`` / ``status_detail`` pair."""
    base = STATUS_MAP.get(status or "", ShipmentStatus.UNKNOWN)
    override, reason = DETAIL_MAP.get(detail or "", (None, None))
    return override or base, reason


def _signing_key(secret: str) -> bytes:
    return to_bytes(unicodedata.normalize("NFKD", secret))


def _raw_status(status: str | None, detail: str | None) -> str:
    return f"{status or ''}/{detail}" if detail else status or ""


class EasyPostAdapter:
    """Adapter for ``POST /webhooks/easypost``."""

    name = "easypost"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Check ``X-Hmac-Signature`` against every configured secret."""
        candidates = usable_secrets(secrets)
        provided = header(headers, SIGNATURE_HEADER)
        if provided is None:
            raise SignatureMissing(f"missing {SIGNATURE_HEADER} header")
        provided = provided.strip()
        if not provided.lower().startswith(_PREFIX):
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
        received = provided[len(_PREFIX) :].lower()
        if not matches_any((hex_hmac(_signing_key(s), body) for s in candidates), received):
            raise SignatureError("signature does not match")

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The header EasyPost would send with ``body``."""
        return {SIGNATURE_HEADER: _PREFIX + hex_hmac(_signing_key(secret), body)}, {}

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """Every ``tracking_details`` checkpoint of the event's tracker, oldest first."""
        event = expect_object(load_json(body), "body")
        event_id = required_str(event.get("id"), "id")
        description = optional_str(event.get("description"), "description")
        if description not in TRACKER_EVENTS:
            # Batch, shipment and other events share the endpoint; they carry no checkpoint.
            return ParsedWebhook(dedupe_key=event_id, updates=())
        tracker = expect_object(event.get("result"), "result")
        fallback_time = optional_str(tracker.get("updated_at"), "result.updated_at")
        fallback_time = fallback_time or optional_str(event.get("created_at"), "created_at")
        return ParsedWebhook(dedupe_key=event_id, updates=_tracker_updates(tracker, fallback_time))


def _location(detail: JsonObject, where: str) -> Location | None:
    """A checkpoint's place, or None when the checkpoint names none."""
    place = optional_object(detail.get("tracking_location"), f"{where}.tracking_location")
    if place is None:
        return None
    return make_location(
        city=optional_str(place.get("city"), f"{where}.tracking_location.city"),
        region=optional_str(place.get("state"), f"{where}.tracking_location.state"),
        postal_code=optional_str(place.get("zip"), f"{where}.tracking_location.zip"),
        country=optional_str(place.get("country"), f"{where}.tracking_location.country"),
    )


def _tracker_updates(tracker: JsonObject, fallback_time: str | None) -> tuple[TrackingUpdate, ...]:
    tracking_number = required_str(tracker.get("tracking_code"), "result.tracking_code")
    carrier = required_str(tracker.get("carrier"), "result.carrier").lower()
    public_url = optional_str(tracker.get("public_url"), "result.public_url")
    eta_text = optional_str(tracker.get("est_delivery_date"), "result.est_delivery_date")
    eta = parse_calendar_date(eta_text, "result.est_delivery_date") if eta_text else None

    updates: list[TrackingUpdate] = []
    details = optional_list(tracker.get("tracking_details"), "result.tracking_details")
    for index, item in enumerate(details):
        where = f"result.tracking_details[{index}]"
        detail = expect_object(item, where)
        raw_status = optional_str(detail.get("status"), f"{where}.status")
        raw_detail = optional_str(detail.get("status_detail"), f"{where}.status_detail")
        message = optional_str(detail.get("message"), f"{where}.message")
        status, reason = settle(*map_status(raw_status, raw_detail), message, raw_detail)
        location = _location(detail, where)
        updates.append(
            TrackingUpdate(
                tracking_number=tracking_number,
                carrier=carrier,
                status=status,
                occurred_at=parse_instant(
                    required_str(detail.get("datetime"), f"{where}.datetime"), f"{where}.datetime"
                ),
                message=message or default_message(status),
                carrier_status=_raw_status(raw_status, raw_detail),
                location=location,
                reason_code=reason,
                public_url=public_url,
            )
        )

    if not updates:
        # A fresh tracker (tracker.created) often has no checkpoint yet; its own status is
        # still news, stamped with the time EasyPost last updated it.
        raw_status = optional_str(tracker.get("status"), "result.status")
        raw_detail = optional_str(tracker.get("status_detail"), "result.status_detail")
        status, reason = settle(*map_status(raw_status, raw_detail), raw_detail)
        if fallback_time is None:
            raise PayloadError("result.updated_at: is required when tracking_details is empty")
        updates.append(
            TrackingUpdate(
                tracking_number=tracking_number,
                carrier=carrier,
                status=status,
                occurred_at=parse_instant(fallback_time, "result.updated_at"),
                message=default_message(status),
                carrier_status=_raw_status(raw_status, raw_detail),
                reason_code=reason,
                public_url=public_url,
            )
        )

    return with_eta(ordered(updates), eta)
