"""Shippo ``track_updated`` webhooks.

Authenticity: Shippo's self-generated token, registered as ``?token=<secret>`` on the webhook
URL and compared in constant time. Accounts with HMAC enabled also receive a signature header
(``Shippo-Auth-Signature``; ``Shippo-Signature`` is accepted too) of the form
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``; when present it must verify and
its timestamp must lie within five minutes of now.
Dedupe key: Shippo sends no event id, so it is the SHA-256 of the tracking number and the
current ``status_date``, ``status`` and substatus code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from carriers.base import (
    ParsedWebhook,
    PayloadError,
    SignatureError,
    SignatureMissing,
    TimestampOutOfTolerance,
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
from carriers.signing import as_utc, header, hex_hmac, matches_any, to_bytes, usable_secrets
from carriers.status import ReasonCode, ShipmentStatus
from carriers.timestamps import parse_calendar_date, parse_instant
from carriers.updates import default_message, digest, make_location, ordered, settle, with_eta

__all__ = ["STATUS_MAP", "SUBSTATUS_MAP", "ShippoAdapter", "map_status"]

TOKEN_PARAMETER = "token"  # noqa: S105 - the query parameter name, not a secret
SIGNATURE_HEADERS = ("Shippo-Auth-Signature", "Shippo-Signature")
TOLERANCE = timedelta(minutes=5)
# Other Shippo events share the endpoint when a shop registers one URL for everything.
QUIET_EVENTS = frozenset(
    {"transaction_created", "transaction_updated", "batch_created", "batch_purchased"}
)

STATUS_MAP: dict[str, ShipmentStatus] = {
    "PRE_TRANSIT": ShipmentStatus.PRE_TRANSIT,
    "TRANSIT": ShipmentStatus.IN_TRANSIT,
    "DELIVERED": ShipmentStatus.DELIVERED,
    "RETURNED": ShipmentStatus.RETURNED_TO_SENDER,
    "FAILURE": ShipmentStatus.EXCEPTION,
    "UNKNOWN": ShipmentStatus.UNKNOWN,
}

# substatus.code: (status that replaces the status or None to keep it, reason). Progress
# codes keep the status so that a parcel on its way back stays RETURNED.
SUBSTATUS_MAP: dict[str, tuple[ShipmentStatus | None, ReasonCode | None]] = {
    "information_received": (ShipmentStatus.PRE_TRANSIT, None),
    "address_issue": (ShipmentStatus.EXCEPTION, ReasonCode.ADDRESS),
    "contact_carrier": (ShipmentStatus.EXCEPTION, ReasonCode.OTHER),
    "delayed": (ShipmentStatus.EXCEPTION, ReasonCode.CARRIER),
    "delivery_attempted": (ShipmentStatus.ATTEMPT_FAILED, None),
    "delivery_rescheduled": (None, None),
    "delivery_scheduled": (None, None),
    "location_inaccessible": (ShipmentStatus.ATTEMPT_FAILED, ReasonCode.ADDRESS),
    "notice_left": (ShipmentStatus.ATTEMPT_FAILED, ReasonCode.RECIPIENT_UNAVAILABLE),
    "out_for_delivery": (ShipmentStatus.OUT_FOR_DELIVERY, None),
    "package_accepted": (None, None),
    "package_arrived": (None, None),
    "package_damaged": (ShipmentStatus.EXCEPTION, ReasonCode.DAMAGED),
    "package_departed": (None, None),
    "package_disposed": (ShipmentStatus.EXCEPTION, ReasonCode.LOST),
    "package_forwarded": (None, None),
    "package_held": (ShipmentStatus.EXCEPTION, ReasonCode.HELD),
    "package_lost": (ShipmentStatus.EXCEPTION, ReasonCode.LOST),
    "package_processed": (None, None),
    "package_processing": (None, None),
    "package_unclaimed": (ShipmentStatus.EXCEPTION, ReasonCode.RECIPIENT_UNAVAILABLE),
    "package_undeliverable": (ShipmentStatus.EXCEPTION, None),
    "pickup_available": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),
    # The recipient must arrange a new delivery: an attempt that did not work out.
    "reschedule_delivery": (ShipmentStatus.ATTEMPT_FAILED, ReasonCode.RECIPIENT_UNAVAILABLE),
    "delivered": (ShipmentStatus.DELIVERED, None),
    "return_to_sender": (ShipmentStatus.RETURNED_TO_SENDER, None),
    "other": (None, None),
}


def map_status(
    status: str | None, substatus: str | None
) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Canonical status and reason for a Shippo ``status`` / ``substatus.code`` pair."""
    base = STATUS_MAP.get((status or "").upper(), ShipmentStatus.UNKNOWN)
    override, reason = SUBSTATUS_MAP.get(substatus or "", (None, None))
    return override or base, reason


def _raw_status(status: str | None, substatus: str | None) -> str:
    return f"{status or ''}/{substatus}" if substatus else status or ""


def _signature_fields(value: str) -> tuple[str, list[str]]:
    """Split ``t=...,v1=...[,v1=...]`` into the timestamp and the v1 signatures."""
    timestamp = ""
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = item.strip()
        elif key == "v1":
            signatures.append(item.strip().lower())
    if not timestamp.isdigit() or len(timestamp) > 12 or not signatures:
        raise SignatureError("malformed Shippo signature header")
    return timestamp, signatures


class ShippoAdapter:
    """Adapter for ``POST /webhooks/shippo?token=...``."""

    name = "shippo"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Check the URL token, then the HMAC header when Shippo sent one."""
        candidates = usable_secrets(secrets)
        token = query.get(TOKEN_PARAMETER)
        if not isinstance(token, str) or not token:
            raise SignatureMissing(f"missing {TOKEN_PARAMETER} query parameter")
        if not matches_any(candidates, token):
            raise SignatureError(f"{TOKEN_PARAMETER} does not match")
        for name in SIGNATURE_HEADERS:
            value = header(headers, name)
            if value is not None:
                self._verify_hmac(body, value, candidates, now)
                return

    @staticmethod
    def _verify_hmac(body: bytes, value: str, secrets: Sequence[str], now: datetime) -> None:
        timestamp, signatures = _signature_fields(value)
        sent_at = int(timestamp)
        if abs(as_utc(now).timestamp() - sent_at) > TOLERANCE.total_seconds():
            raise TimestampOutOfTolerance("signature timestamp is outside the 5 minute tolerance")
        message = timestamp.encode("ascii") + b"." + body
        expected = [hex_hmac(to_bytes(secret), message) for secret in secrets]
        # A list, not a generator: every signature is compared, no early exit.
        if not any([matches_any(expected, signature) for signature in signatures]):
            raise SignatureError("signature does not match")

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The token and signature header Shippo would send with ``body``."""
        timestamp = str(int(as_utc(now).timestamp()))
        signature = hex_hmac(to_bytes(secret), timestamp.encode("ascii") + b"." + body)
        return (
            {SIGNATURE_HEADERS[0]: f"t={timestamp},v1={signature}"},
            {TOKEN_PARAMETER: secret},
        )

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """The tracking history and current status of a ``track_updated`` event, oldest first."""
        data = expect_object(load_json(body), "body")
        event = required_str(data.get("event"), "event")
        if event in QUIET_EVENTS:
            return ParsedWebhook(dedupe_key=hashlib.sha256(body).hexdigest(), updates=())
        if event != "track_updated":
            raise PayloadError(f"event: unknown Shippo event {event!r}")
        track = expect_object(data.get("data"), "data")
        return _track_updates(track)


def _track_updates(track: JsonObject) -> ParsedWebhook:
    tracking_number = required_str(track.get("tracking_number"), "data.tracking_number")
    carrier = required_str(track.get("carrier"), "data.carrier").lower()
    eta_text = optional_str(track.get("eta"), "data.eta")
    eta = parse_calendar_date(eta_text, "data.eta") if eta_text else None

    current = optional_object(track.get("tracking_status"), "data.tracking_status")
    entries: list[tuple[JsonObject, str]] = [
        (expect_object(item, f"data.tracking_history[{index}]"), f"data.tracking_history[{index}]")
        for index, item in enumerate(
            optional_list(track.get("tracking_history"), "data.tracking_history")
        )
    ]
    if current is not None:
        entries.append((current, "data.tracking_status"))

    updates: list[TrackingUpdate] = []
    for entry, where in entries:
        update = _entry_update(entry, where, tracking_number, carrier)
        if update is not None:
            updates.append(update)

    key_parts = [tracking_number, "", "", ""]
    if current is not None:
        substatus = optional_object(current.get("substatus"), "data.tracking_status.substatus")
        key_parts = [
            tracking_number,
            optional_str(current.get("status_date"), "data.tracking_status.status_date") or "",
            optional_str(current.get("status"), "data.tracking_status.status") or "",
            (optional_str(substatus.get("code"), "data.tracking_status.substatus.code") or "")
            if substatus is not None
            else "",
        ]
    return ParsedWebhook(dedupe_key=digest(*key_parts), updates=with_eta(ordered(updates), eta))


def _entry_update(
    entry: JsonObject, where: str, tracking_number: str, carrier: str
) -> TrackingUpdate | None:
    raw_status = optional_str(entry.get("status"), f"{where}.status")
    substatus = optional_object(entry.get("substatus"), f"{where}.substatus")
    code = text = None
    if substatus is not None:
        code = optional_str(substatus.get("code"), f"{where}.substatus.code")
        text = optional_str(substatus.get("text"), f"{where}.substatus.text")
    details = optional_str(entry.get("status_details"), f"{where}.status_details")
    # Shippo leaves status_date null while a code is UNKNOWN to the carrier; the record's own
    # timestamps are the next best thing, and with neither there is no checkpoint to place.
    when_field = next(
        (
            field
            for field in ("status_date", "object_updated", "object_created")
            if optional_str(entry.get(field), f"{where}.{field}")
        ),
        None,
    )
    if when_field is None:
        return None
    status, reason = settle(*map_status(raw_status, code), details, text)
    place = optional_object(entry.get("location"), f"{where}.location")
    location = None
    if place is not None:
        location = make_location(
            city=optional_str(place.get("city"), f"{where}.location.city"),
            region=optional_str(place.get("state"), f"{where}.location.state"),
            postal_code=optional_str(place.get("zip"), f"{where}.location.zip"),
            country=optional_str(place.get("country"), f"{where}.location.country"),
        )
    return TrackingUpdate(
        tracking_number=tracking_number,
        carrier=carrier,
        status=status,
        occurred_at=parse_instant(
            required_str(entry.get(when_field), f"{where}.{when_field}"), f"{where}.{when_field}"
        ),
        message=details or text or default_message(status),
        carrier_status=_raw_status(raw_status, code),
        location=location,
        reason_code=reason,
    )
