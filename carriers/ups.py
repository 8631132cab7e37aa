"""UPS Track Alert callbacks: one message per package activity.

Authenticity: the opaque callback credential given in the subscription request, sent back
either in a header named ``credential`` (v1) or as ``Authorization: Bearer <credential>`` (v2).
Both are accepted and compared in constant time.
Dedupe key: UPS sends no event id, so it is the SHA-256 of the tracking number, the GMT
activity date and time and the activity status code.
Times: UPS gives local and GMT date/time; the GMT pair is used, the local pair plus
``gmtOffset`` only when GMT is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

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
    optional_object,
    optional_str,
    required_str,
)
from carriers.signing import header, matches_any, usable_secrets
from carriers.status import ReasonCode, ShipmentStatus
from carriers.timestamps import parse_compact, parse_compact_date
from carriers.updates import default_message, digest, make_location, settle

__all__ = [
    "ACTIVITY_CODE_MAP",
    "DESCRIPTION_CODE_MAP",
    "TYPE_MAP",
    "UPSAdapter",
    "map_activity",
]

CREDENTIAL_HEADER = "credential"
CARRIER = "ups"

# activityStatus.type, the coarse class of every UPS activity.
TYPE_MAP: dict[str, ShipmentStatus] = {
    "M": ShipmentStatus.PRE_TRANSIT,  # manifest: label created, billing information received
    "MV": ShipmentStatus.CANCELLED,  # manifest void
    "I": ShipmentStatus.IN_TRANSIT,  # in progress: moving through the network
    "D": ShipmentStatus.DELIVERED,  # delivery information (refined below for loaded/out)
    "U": ShipmentStatus.IN_TRANSIT,  # updated delivery date or time; the parcel still moves
    "X": ShipmentStatus.EXCEPTION,  # exception: something out of the normal happened
}

# Notable two-letter activity codes (activityStatus.code) seen in Track Alert messages.
ACTIVITY_CODE_MAP: dict[str, tuple[ShipmentStatus, ReasonCode | None]] = {
    "MP": (ShipmentStatus.PRE_TRANSIT, None),  # shipment ready for UPS
    "OR": (ShipmentStatus.IN_TRANSIT, None),  # origin scan
    "AR": (ShipmentStatus.IN_TRANSIT, None),  # arrival scan
    "DP": (ShipmentStatus.IN_TRANSIT, None),  # departure scan
    "YP": (ShipmentStatus.IN_TRANSIT, None),  # preparing for delivery
    "OT": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # out for delivery
    "FS": (ShipmentStatus.DELIVERED, None),  # delivered
}

# activityStatus.descriptionCode, UPS's simplified status for non-specialists.
DESCRIPTION_CODE_MAP: dict[str, tuple[ShipmentStatus, ReasonCode | None]] = {
    "003": (ShipmentStatus.PRE_TRANSIT, None),  # shipment ready for UPS
    "005": (ShipmentStatus.IN_TRANSIT, None),  # on the way
    "011": (ShipmentStatus.DELIVERED, None),  # delivered
    "012": (ShipmentStatus.IN_TRANSIT, None),  # clearance in progress
    "013": (ShipmentStatus.EXCEPTION, None),  # exception
    "014": (ShipmentStatus.IN_TRANSIT, None),  # clearance completed
    "017": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),  # held for customer pickup
    "021": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # out for delivery
    "022": (ShipmentStatus.ATTEMPT_FAILED, None),  # first attempt made
    "023": (ShipmentStatus.ATTEMPT_FAILED, None),  # second attempt made
    "024": (ShipmentStatus.ATTEMPT_FAILED, None),  # final attempt made
    "026": (ShipmentStatus.DELIVERED, None),  # delivered by the local post office
    "034": (ShipmentStatus.RETURNED_TO_SENDER, None),  # returned to sender
    "035": (ShipmentStatus.RETURNED_TO_SENDER, None),  # returning to sender
    "040": (ShipmentStatus.AVAILABLE_FOR_PICKUP, None),  # at a UPS Access Point, awaiting pickup
    "071": (ShipmentStatus.IN_TRANSIT, None),  # preparing for delivery
    "072": (ShipmentStatus.OUT_FOR_DELIVERY, None),  # loaded on delivery vehicle
}

# Simplified summaries that merely say "moving"; they must not hide an X-type exception.
_PROGRESS = frozenset({ShipmentStatus.PRE_TRANSIT, ShipmentStatus.IN_TRANSIT})
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def map_activity(
    kind: str | None,
    code: str | None,
    description_code: str | None = None,
    description: str | None = None,
) -> tuple[ShipmentStatus, ReasonCode | None]:
    """Canonical status and reason for one Track Alert ``activityStatus``.

    The specific activity code wins, then the type for exceptions (an X stays an exception
    unless the simplified code names something more specific, such as an attempt), then the
    simplified description code, then the type.
    """
    kind = (kind or "").upper()
    if code and code.upper() in ACTIVITY_CODE_MAP:
        return ACTIVITY_CODE_MAP[code.upper()]
    by_description = DESCRIPTION_CODE_MAP.get(description_code or "")
    text = (description or "").lower()
    if kind == "X":
        if by_description and by_description[0] not in _PROGRESS:
            return by_description
        if "attempt" in text:
            return ShipmentStatus.ATTEMPT_FAILED, None
        if "return" in text:
            return ShipmentStatus.RETURNED_TO_SENDER, None
        return ShipmentStatus.EXCEPTION, None
    if by_description:
        return by_description
    if kind == "D":
        # Type D covers "loaded on delivery vehicle" and "out for delivery" as well.
        if "out for delivery" in text or "loaded on delivery vehicle" in text:
            return ShipmentStatus.OUT_FOR_DELIVERY, None
        if "access point" in text or "awaiting customer pickup" in text:
            return ShipmentStatus.AVAILABLE_FOR_PICKUP, None
    return TYPE_MAP.get(kind, ShipmentStatus.UNKNOWN), None


def _raw_status(kind: str | None, code: str | None, description_code: str | None) -> str:
    return "/".join(part for part in (kind, code, description_code) if part)


def _presented_credentials(headers: Mapping[str, str]) -> list[str]:
    presented: list[str] = []
    credential = header(headers, CREDENTIAL_HEADER)
    if credential is not None and credential.strip():
        presented.append(credential.strip())
    authorization = header(headers, "Authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if not presented:
                raise SignatureError("malformed Authorization header (expected Bearer)")
        else:
            presented.append(token.strip())
    if not presented:
        raise SignatureMissing("missing credential (credential or Authorization header)")
    return presented


class UPSAdapter:
    """Adapter for ``POST /webhooks/ups`` (UPS Track Alert)."""

    name = "ups"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Accept when a presented callback credential equals a configured one."""
        candidates = usable_secrets(secrets)
        presented = _presented_credentials(headers)
        # A list, not a generator: every presented credential is compared, no early exit.
        if not any([matches_any(candidates, credential) for credential in presented]):
            raise SignatureError("credential does not match")

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The v1 header Track Alert would send: the credential itself."""
        return {CREDENTIAL_HEADER: secret}, {}

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """One Track Alert activity as one update."""
        data = expect_object(load_json(body), "body")
        # UPS's own examples carry a stray leading space in trackingNumber.
        tracking_number = required_str(data.get("trackingNumber"), "trackingNumber").upper()
        activity = expect_object(data.get("activityStatus"), "activityStatus")
        kind = optional_str(activity.get("type"), "activityStatus.type")
        code = optional_str(activity.get("code"), "activityStatus.code")
        description_code = optional_str(
            activity.get("descriptionCode"), "activityStatus.descriptionCode"
        )
        description = optional_str(activity.get("description"), "activityStatus.description")
        occurred_at, gmt_day, gmt_time = _occurred_at(data)
        status, reason = settle(
            *map_activity(kind, code, description_code, description), description
        )
        eta_text = optional_str(data.get("scheduledDeliveryDate"), "scheduledDeliveryDate")
        update = TrackingUpdate(
            tracking_number=tracking_number,
            carrier=CARRIER,
            status=status,
            occurred_at=occurred_at,
            message=description or default_message(status),
            carrier_status=_raw_status(kind, code, description_code),
            location=_location(optional_object(data.get("activityLocation"), "activityLocation")),
            reason_code=reason,
            estimated_delivery=(
                parse_compact_date(eta_text, "scheduledDeliveryDate") if eta_text else None
            ),
        )
        key = digest(tracking_number, gmt_day, gmt_time, code or "")
        return ParsedWebhook(dedupe_key=key, updates=(update,))


def _occurred_at(data: JsonObject) -> tuple[datetime, str, str]:
    gmt_day = optional_str(data.get("gmtActivityDate"), "gmtActivityDate")
    gmt_time = optional_str(data.get("gmtActivityTime"), "gmtActivityTime")
    if gmt_day:
        moment = parse_compact(gmt_day, gmt_time, "gmtActivityDate/gmtActivityTime")
        return moment, gmt_day, gmt_time or ""
    local_day = optional_str(data.get("localActivityDate"), "localActivityDate")
    local_time = optional_str(data.get("localActivityTime"), "localActivityTime")
    offset = optional_str(data.get("gmtOffset"), "gmtOffset")
    match = _OFFSET.fullmatch(offset or "")
    if not local_day or match is None:
        raise PayloadError("gmtActivityDate: is required (or localActivityDate with gmtOffset)")
    sign, hours, minutes = match.groups()
    shift = timedelta(hours=int(hours), minutes=int(minutes))
    local = parse_compact(local_day, local_time, "localActivityDate/localActivityTime")
    # parse_compact reads the wall clock as UTC; undo the local offset to get real UTC.
    moment = local - shift if sign == "+" else local + shift
    return moment, local_day + (offset or ""), local_time or ""


def _location(place: JsonObject | None) -> Location | None:
    if place is None:
        return None
    return make_location(
        city=optional_str(place.get("city"), "activityLocation.city"),
        region=optional_str(place.get("stateProvince"), "activityLocation.stateProvince"),
        postal_code=optional_str(place.get("postalCode"), "activityLocation.postalCode"),
        country=optional_str(place.get("country"), "activityLocation.country"),
    )
