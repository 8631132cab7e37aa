"""FedEx tracking webhooks (Advanced Integrated Visibility).

Authenticity: ``fdx-signature``, the base64 HMAC-SHA256 of the raw body keyed with the webhook
project's security token.
Payload: the Track API result shape, either wrapped (``output.completeTrackResults``), as a
bare ``completeTrackResults`` / ``trackResults`` list, or as one track result.
FedEx publishes a new payload whenever anything about a shipment changes (new scan, new delivery
prediction, proof of delivery), so several payloads can share one milestone and a later payload
need not hold a later event. The parser therefore emits every scan event of every payload and
leaves the merge to the portal.
Dedupe key: SHA-256 of each tracking number with every scan event's timestamp and event code,
plus the estimated delivery date: a payload that repeats the same scans with a revised estimate
is new information and must not be dropped as a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from carriers.base import Location, ParsedWebhook, PayloadError, TrackingUpdate
from carriers.jsonfields import (
    JsonObject,
    expect_list,
    expect_object,
    load_json,
    optional_list,
    optional_object,
    optional_str,
    required_str,
)
from carriers.signing import b64_hmac, to_bytes, verify_body_hmac
from carriers.status import ReasonCode, ShipmentStatus
from carriers.timestamps import parse_calendar_date, parse_instant
from carriers.updates import default_message, digest, make_location, ordered, settle, with_eta

__all__ = [
    "DELAY_TYPE_MAP",
    "EXCEPTION_CODE_MAP",
    "STATUS_CODE_MAP",
    "FedExAdapter",
    "map_scan",
]

SIGNATURE_HEADER = "fdx-signature"
CARRIER = "fedex"

# FedEx status codes, used for derivedStatusCode first and eventType second (both share one
# code space).
STATUS_CODE_MAP: dict[str, tuple[ShipmentStatus, ReasonCode | None]] = {
    "IN": (ShipmentStatus.PRE_TRANSIT, None),  # initiated: label created
    "OC": (ShipmentStatus.PRE_TRANSIT, None),  # shipment information sent to FedEx
    "EP": (ShipmentStatus.PRE_TRANSIT, None),  # enroute to pickup
    "AP": (ShipmentStatus.PRE_TRANSIT, None),  # at pickup
    "PU": (ShipmentStatus.IN_TRANSIT, None),  # picked up
    "PX": (ShipmentStatus.IN_TRANSIT, None),  # picked up (see details)
    "IT": (ShipmentStatus.IN_TRANSIT, None),  # in transit
    "IX": (ShipmentStatus.IN_TRANSIT, None),  # in transit (see details)
    "AR": (ShipmentStatus.IN_TRANSIT, None),  # arrived at FedEx location
    "AF": (ShipmentStatus.IN_TRANSIT, None),  # at local FedEx facility
    "DP": (ShipmentStatus.IN_TRANSIT, None),  # departed FedEx location
    "AA": (ShipmentStatus.IN_TRANSIT, None),  # at airport
    "AC": (ShipmentStatus.IN_TRANSIT, None),  # at Canada Post facility
    "AX": (ShipmentStatus.IN_TRANSIT, None),  # at USPS facility
    "OX": (ShipmentStatus.IN_TRANSIT, None),  # shipment information sent to USPS
    "FD": (ShipmentStatus.IN_TRANSIT, None),  # at FedEx destination facility
    "OF": (ShipmentStatus.IN_TRANSIT, None),  # at FedEx origin facility
    "LO": (ShipmentStatus.IN_TRANSIT, None),  # left origin
    "EO": (ShipmentStatus.IN_TRANSIT, None),  # enroute to origin airport
    "PF": (ShipmentStatus.IN_TRANSIT, None),  # plane in flight
    "PL": (ShipmentStatus.IN_TRANSIT, None),  # plane landed
    "SF": (ShipmentStatus.IN_TRANSIT, None),  # at sort facility
    "TR": (ShipmentStatus.IN_TRANSIT, None),  # transfer
    "CH": (ShipmentStatus.IN_TRANSIT, None),  # location changed
    "CC": (ShipmentStatus.IN_TRANSIT, None),  # cleared customs
    "CP": (ShipmentStatus.IN_TRANSIT, None),  # clearance in progress
    "AO": (ShipmentStatus.IN_TRANSIT, None),  # shipment arriving on time
    "ED": (ShipmentStatus.IN_TRANSIT, None),  # enroute to delivery
    "OD": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # on FedEx vehicle for delivery
    "AD": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # at delivery
    "DL": (ShipmentStatus.DELIVERED, None),  # delivered
    "HL": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),  # hold at location, ready for pickup
    "HP": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),  # ready for recipient pickup
    "RS": (ShipmentStatus.RETURNED_TO_SENDER, None),  # return to shipper
    "CA": (ShipmentStatus.CANCELLED, None),  # shipment cancelled
    # Delivery exceptions happen at the door: customer not in, refused, wrong address...
    "DE": (ShipmentStatus.ATTEMPT_FAILED, None),
    "SE": (ShipmentStatus.EXCEPTION, None),  # shipment exception
    "DY": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # delay
    "DD": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # delivery delay
    "PD": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),  # pickup delay
    "CD": (ShipmentStatus.EXCEPTION, ReasonCode.CUSTOMS),  # clearance delay
}

# exceptionCode of delivery exceptions (DEX codes): (status that replaces the code's or None,
# reason).
EXCEPTION_CODE_MAP: dict[str, tuple[ShipmentStatus | None, ReasonCode | None]] = {
    "03": (None, ReasonCode.ADDRESS),  # incorrect recipient address
    "07": (ShipmentStatus.EXCEPTION, ReasonCode.REFUSED),  # refused by recipient
    "08": (None, ReasonCode.RECIPIENT_UNAVAILABLE),  # recipient not in
    "15": (None, ReasonCode.RECIPIENT_UNAVAILABLE),  # business closed
}

# delayDetail.type: why FedEx expects a scan to run late.
DELAY_TYPE_MAP: dict[str, ReasonCode] = {
    "WEATHER": ReasonCode.WEATHER,
    "CLEARANCE": ReasonCode.CUSTOMS,
    "OPERATIONAL": ReasonCode.CARRIER,
    "LOCAL": ReasonCode.CARRIER,
    "GENERAL": ReasonCode.CARRIER,
}


def map_scan(
    derived: str | None,
    event_type: str | None,
    exception_code: str | None = None,
    delay_type: str | None = None,
) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Canonical status and reason for one FedEx scan event.

    Reasons, most specific first: the delivery exception code, the ``delayDetail`` type, the
    status code's own. A ``delayDetail`` keeps the scan's status (a pickup is still a pickup)
    but adds its reason: an update whose status is progress and whose reason is set reports
    a delay.
    """
    status, reason = STATUS_CODE_MAP.get(
        (derived or "").upper(),
        STATUS_CODE_MAP.get((event_type or "").upper(), (ShipmentStatus.UNKNOWN, None)),
    )
    delay_reason = DELAY_TYPE_MAP.get((delay_type or "").upper())
    if delay_reason is not None:
        reason = delay_reason
    override, exception_reason = EXCEPTION_CODE_MAP.get(exception_code or "", (None, None))
    if exception_reason is not None and status in (
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.EXCEPTION,
    ):
        status, reason = override or status, exception_reason
    return status, reason


class FedExAdapter:
    """Adapter for ``POST /webhooks/fedex``."""

    name = "fedex"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Check ``fdx-signature`` against every configured security token."""
        verify_body_hmac(headers, SIGNATURE_HEADER, secrets, body)

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The header FedEx would send with ``body``."""
        return {SIGNATURE_HEADER: b64_hmac(to_bytes(secret), body)}, {}

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """Every scan event of every track result in the payload, oldest first."""
        data = expect_object(load_json(body), "body")
        updates: list[TrackingUpdate] = []
        key_parts: list[str] = []
        for parent_number, result, where in _track_results(data):
            if result.get("error") is not None:
                # FedEx reports unknown or not-yet-scanned numbers inline; nothing to apply.
                continue
            number = _tracking_number(result, parent_number, where)
            eta = _eta(result, where)
            scans = [
                _scan_update(
                    expect_object(item, f"{where}.scanEvents[{index}]"),
                    number,
                    f"{where}.scanEvents[{index}]",
                )
                for index, item in enumerate(
                    optional_list(result.get("scanEvents"), f"{where}.scanEvents")
                )
            ]
            key_parts.append(number)
            key_parts.extend(
                f"{scan.occurred_at.isoformat()}|{scan.carrier_status}" for scan in scans
            )
            key_parts.append(eta.isoformat() if eta else "")
            updates.extend(with_eta(ordered(scans), eta))
        if not key_parts:
            # Only error entries: authentic, well formed, and nothing to apply.
            return ParsedWebhook(dedupe_key=hashlib.sha256(body).hexdigest(), updates=())
        return ParsedWebhook(dedupe_key=digest(*key_parts), updates=ordered(updates))


def _track_results(data: JsonObject) -> list[tuple[str | None, JsonObject, str]]:
    """(tracking number of the enclosing result, track result, its path) for every result."""
    if "output" in data or "completeTrackResults" in data:
        if "output" in data:
            output = expect_object(data["output"], "output")
            prefix = "output.completeTrackResults"
            complete = expect_list(output.get("completeTrackResults"), prefix)
        else:
            prefix = "completeTrackResults"
            complete = expect_list(data["completeTrackResults"], prefix)
        found: list[tuple[str | None, JsonObject, str]] = []
        for index, item in enumerate(complete):
            entry = expect_object(item, f"{prefix}[{index}]")
            number = optional_str(entry.get("trackingNumber"), f"{prefix}[{index}].trackingNumber")
            results = expect_list(entry.get("trackResults"), f"{prefix}[{index}].trackResults")
            for inner, result in enumerate(results):
                where = f"{prefix}[{index}].trackResults[{inner}]"
                found.append((number, expect_object(result, where), where))
        return found
    if "trackResults" in data:
        number = optional_str(data.get("trackingNumber"), "trackingNumber")
        results = expect_list(data["trackResults"], "trackResults")
        return [
            (number, expect_object(result, f"trackResults[{index}]"), f"trackResults[{index}]")
            for index, result in enumerate(results)
        ]
    if "scanEvents" in data or "trackingNumberInfo" in data:
        return [(None, data, "body")]
    raise PayloadError(
        "body: expected FedEx track results (output.completeTrackResults, trackResults or "
        "scanEvents)"
    )


def _tracking_number(result: JsonObject, parent_number: str | None, where: str) -> str:
    info = optional_object(result.get("trackingNumberInfo"), f"{where}.trackingNumberInfo")
    number = None
    if info is not None:
        number = optional_str(
            info.get("trackingNumber"), f"{where}.trackingNumberInfo.trackingNumber"
        )
    number = number or optional_str(result.get("trackingNumber"), f"{where}.trackingNumber")
    return required_str(number or parent_number, f"{where}.trackingNumberInfo.trackingNumber")


def _eta(result: JsonObject, where: str) -> date | None:
    """Estimated delivery: the estimated window, the standard transit window, then dates."""
    for field in ("estimatedDeliveryTimeWindow", "standardTransitTimeWindow"):
        block = optional_object(result.get(field), f"{where}.{field}")
        window = optional_object(block.get("window"), f"{where}.{field}.window") if block else None
        if window is None:
            continue
        for key in ("ends", "begins"):
            text = optional_str(window.get(key), f"{where}.{field}.window.{key}")
            if text:
                return parse_calendar_date(text, f"{where}.{field}.window.{key}")
    for index, item in enumerate(
        optional_list(result.get("dateAndTimes"), f"{where}.dateAndTimes")
    ):
        entry = expect_object(item, f"{where}.dateAndTimes[{index}]")
        kind = optional_str(entry.get("type"), f"{where}.dateAndTimes[{index}].type")
        if kind in ("ESTIMATED_DELIVERY", "COMMITMENT", "APPOINTMENT_DELIVERY"):
            text = optional_str(entry.get("dateTime"), f"{where}.dateAndTimes[{index}].dateTime")
            if text:
                return parse_calendar_date(text, f"{where}.dateAndTimes[{index}].dateTime")
    return None


def _scan_update(scan: JsonObject, number: str, where: str) -> TrackingUpdate:
    derived = optional_str(scan.get("derivedStatusCode"), f"{where}.derivedStatusCode")
    event_type = optional_str(scan.get("eventType"), f"{where}.eventType")
    exception_code = optional_str(scan.get("exceptionCode"), f"{where}.exceptionCode")
    description = optional_str(scan.get("eventDescription"), f"{where}.eventDescription")
    exception_text = optional_str(scan.get("exceptionDescription"), f"{where}.exceptionDescription")
    delay = optional_object(scan.get("delayDetail"), f"{where}.delayDetail")
    delay_type = optional_str(delay.get("type"), f"{where}.delayDetail.type") if delay else None
    status, reason = settle(
        *map_scan(derived, event_type, exception_code, delay_type), exception_text, description
    )
    message = description or optional_str(scan.get("derivedStatus"), f"{where}.derivedStatus")
    if exception_text and exception_text != message:
        message = f"{message}: {exception_text}" if message else exception_text
    raw = f"{derived or ''}/{event_type or ''}" + (f"/{exception_code}" if exception_code else "")
    return TrackingUpdate(
        tracking_number=number,
        carrier=CARRIER,
        status=status,
        # FedEx sends the scan's local time with its offset; a bare time is taken as UTC.
        occurred_at=parse_instant(required_str(scan.get("date"), f"{where}.date"), f"{where}.date"),
        message=message or default_message(status),
        carrier_status=raw,
        location=_location(
            optional_object(scan.get("scanLocation"), f"{where}.scanLocation"),
            f"{where}.scanLocation",
        ),
        reason_code=reason,
    )


def _location(place: JsonObject | None, where: str) -> Location | None:
    if place is None:
        return None
    return make_location(
        city=optional_str(place.get("city"), f"{where}.city"),
        region=optional_str(place.get("stateOrProvinceCode"), f"{where}.stateOrProvinceCode"),
        postal_code=optional_str(place.get("postalCode"), f"{where}.postalCode"),
        country=optional_str(place.get("countryCode"), f"{where}.countryCode"),
    )
