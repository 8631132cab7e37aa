"""The portal's own webhook schema, signed per the Standard Webhooks specification.

Authenticity: ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(space-separated ``v1,<base64>`` entries). Each signature is the base64 HMAC-SHA256 of
``{id}.{timestamp}.{body}`` keyed with the base64-decoded part of a ``whsec_`` secret. The
timestamp must lie within five minutes of now, either way.

This is implemented here rather than with the ``standardwebhooks`` package because that package
reads the system clock itself, and this package takes the time as an argument.
Dedupe key: ``webhook-id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from carriers.base import (
    Location,
    ParsedWebhook,
    PayloadError,
    SignatureError,
    SignatureMissing,
    TimestampOutOfTolerance,
    TrackingUpdate,
)
from carriers.jsonfields import JsonObject, json_type, load_json
from carriers.signing import as_utc, b64_hmac, header, matches_any, to_bytes, usable_secrets
from carriers.status import ReasonCode, ShipmentStatus
from carriers.updates import make_location, ordered

__all__ = ["GenericAdapter", "decode_secret"]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
TOLERANCE = timedelta(minutes=5)
MAX_EVENTS = 1000

_CARRIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339: a date, "T" or space, a time, and a zone.
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")

_FIELDS = frozenset(
    {
        "tracking_number",
        "carrier",
        "status",
        "occurred_at",
        "location",
        "message",
        "estimated_delivery",
        "reason_code",
        "public_url",
    }
)
_REQUIRED = ("tracking_number", "carrier", "status", "occurred_at")
_LOCATION_FIELDS = ("city", "region", "postal_code", "country")
_STATUSES = ", ".join(status.value for status in ShipmentStatus)
_REASONS = ", ".join(reason.value for reason in ReasonCode)
_E = TypeVar("_E", ShipmentStatus, ReasonCode)


def decode_secret(secret: str) -> bytes | None:
    """The signing key of a ``whsec_`` secret; None when it is not valid base64."""
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def _signed_content(message_id: str, timestamp: str, body: bytes) -> bytes:
    return to_bytes(message_id) + b"." + timestamp.encode("ascii") + b"." + body


class GenericAdapter:
    """Adapter for ``POST /webhooks/generic`` (Standard Webhooks)."""

    name = "generic"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Check the three Standard Webhooks headers, the tolerance and the signature."""
        keys = [key for key in map(decode_secret, usable_secrets(secrets)) if key is not None]
        if not keys:
            raise SignatureError("no valid whsec_ secret is configured for this carrier")
        message_id = header(headers, ID_HEADER)
        timestamp = header(headers, TIMESTAMP_HEADER)
        signature = header(headers, SIGNATURE_HEADER)
        if not message_id or not timestamp or not signature:
            raise SignatureMissing(
                f"missing {ID_HEADER}, {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
            )
        timestamp = timestamp.strip()
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise SignatureError(f"malformed {TIMESTAMP_HEADER} header")
        if abs(as_utc(now).timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
            raise TimestampOutOfTolerance(f"{TIMESTAMP_HEADER} is outside the 5 minute tolerance")
        provided = [
            value
            for version, sep, value in (entry.partition(",") for entry in signature.split())
            if sep and version == "v1" and value
        ]
        if not provided:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header (no v1 signature)")
        content = _signed_content(message_id, timestamp, body)
        expected = [b64_hmac(key, content) for key in keys]
        # A list, not a generator: every signature is compared, no early exit.
        if not any([matches_any(expected, value) for value in provided]):
            raise SignatureError("signature does not match")

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Standard Webhooks headers for ``body``; the id is derived from body and time."""
        key = decode_secret(secret)
        if key is None:
            raise ValueError("secret must be a whsec_ prefixed base64 string")
        timestamp = str(int(as_utc(now).timestamp()))
        message_id = "msg_" + hashlib.sha256(timestamp.encode("ascii") + body).hexdigest()[:24]
        signature = b64_hmac(key, _signed_content(message_id, timestamp, body))
        return (
            {
                ID_HEADER: message_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: f"v1,{signature}",
            },
            {},
        )

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """One event object, or ``{"events": [...]}`` for a batch; validated field by field."""
        message_id = header(headers, ID_HEADER)
        if not message_id or not message_id.strip():
            raise PayloadError(f"{ID_HEADER} header: is required")
        data = load_json(body)
        if not isinstance(data, dict):
            raise PayloadError(f"body: expected an object, got {json_type(data)}")
        if "events" in data:
            extra = sorted(set(data) - {"events"})
            if extra:
                raise PayloadError(f"body: unknown field {extra[0]!r} beside 'events'")
            events = data["events"]
            if not isinstance(events, list):
                raise PayloadError(f"events: expected an array, got {json_type(events)}")
            if not events:
                raise PayloadError("events: must contain at least one event")
            if len(events) > MAX_EVENTS:
                raise PayloadError(f"events: at most {MAX_EVENTS} events per delivery")
            updates = [_event(item, f"events[{index}]") for index, item in enumerate(events)]
        else:
            updates = [_event(data, "body")]
        return ParsedWebhook(dedupe_key=message_id.strip(), updates=ordered(updates))


def _event(value: object, where: str) -> TrackingUpdate:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object, got {json_type(value)}")
    event: JsonObject = value
    unknown = sorted(set(event) - _FIELDS)
    if unknown:
        raise PayloadError(f"{where}: unknown field {unknown[0]!r}")
    for field in _REQUIRED:
        if event.get(field) is None:
            raise PayloadError(f"{where}.{field}: is required")

    tracking_number = _string(event["tracking_number"], f"{where}.tracking_number", limit=64)
    carrier = _string(event["carrier"], f"{where}.carrier", limit=32).lower()
    if not _CARRIER.fullmatch(carrier):
        raise PayloadError(
            f"{where}.carrier: {carrier!r} is not a carrier code (letters, digits, - and _)"
        )
    status = _enum(ShipmentStatus, event["status"], f"{where}.status", _STATUSES)
    reason = None
    if event.get("reason_code") is not None:
        reason = _enum(ReasonCode, event["reason_code"], f"{where}.reason_code", _REASONS)
    message = ""
    if event.get("message") is not None:
        # No limit here: carriers.text cuts an over-long message (with an ellipsis).
        message = _string(event["message"], f"{where}.message", limit=None, allow_empty=True)
    public_url = None
    if event.get("public_url") is not None:
        public_url = _string(event["public_url"], f"{where}.public_url", limit=2000)
        if not public_url.startswith(("https://", "http://")):
            raise PayloadError(f"{where}.public_url: must be an http(s) URL")
    return TrackingUpdate(
        tracking_number=tracking_number,
        carrier=carrier,
        status=status,
        occurred_at=_instant(event["occurred_at"], f"{where}.occurred_at"),
        message=message,
        carrier_status=status.value,
        location=_location(event.get("location"), f"{where}.location"),
        reason_code=reason,
        estimated_delivery=_date(event.get("estimated_delivery"), f"{where}.estimated_delivery"),
        public_url=public_url,
    )


def _string(value: object, where: str, *, limit: int | None, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a string, got {json_type(value)}")
    text = value.strip()
    if not text and not allow_empty:
        raise PayloadError(f"{where}: must not be empty")
    if limit is not None and len(text) > limit:
        raise PayloadError(f"{where}: longer than {limit} characters")
    return text


def _enum(kind: type[_E], value: object, where: str, allowed: str) -> _E:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a string, got {json_type(value)}")
    try:
        return kind(value)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not one of {allowed}") from None


def _instant(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an RFC 3339 string, got {json_type(value)}")
    if not _INSTANT.fullmatch(value):
        raise PayloadError(
            f"{where}: {value!r} is not an RFC 3339 timestamp with a zone "
            "(e.g. 2027-03-02T08:15:00Z)"
        )
    try:
        return as_utc(datetime.fromisoformat(value.upper()))
    except (ValueError, OverflowError):
        raise PayloadError(f"{where}: {value!r} is not a valid date and time") from None


def _date(value: object, where: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise PayloadError(f"{where}: expected a YYYY-MM-DD date string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not a valid date") from None


def _location(value: object, where: str) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object or null, got {json_type(value)}")
    unknown = sorted(set(value) - set(_LOCATION_FIELDS))
    if unknown:
        raise PayloadError(f"{where}: unknown field {unknown[0]!r}")
    parts: dict[str, str | None] = {}
    for field in _LOCATION_FIELDS:
        item = value.get(field)
        if item is None:
            parts[field] = None
        else:
            parts[field] = _string(item, f"{where}.{field}", limit=None, allow_empty=True) or None
    return make_location(**parts)
