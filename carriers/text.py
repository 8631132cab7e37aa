"""Text a carrier sent, made safe to store and show: every adapter's updates pass through here.

Authenticated input is still input. Before an update reaches the portal:
- NUL and the other control characters are removed (PostgreSQL text refuses NUL; line breaks
  and tabs become spaces), as are lone surrogates (not encodable as UTF-8);
- bidirectional overrides, isolates and marks, and zero-width characters are removed from
  display text, so a message cannot reorder or hide what the customer reads;
- whitespace runs collapse to one space;
- over-long text is cut at a documented length (below), ending in an ellipsis.
The raw body stays in the webhook receipt, whole.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from carriers.base import Location, ParsedWebhook, TrackingUpdate

__all__ = [
    "CARRIER_MAX",
    "CARRIER_STATUS_MAX",
    "CITY_MAX",
    "COUNTRY_MAX",
    "MESSAGE_MAX",
    "POSTAL_CODE_MAX",
    "REGION_MAX",
    "URL_MAX",
    "clean_text",
    "normalise_update",
    "normalise_webhook",
]

MESSAGE_MAX = 1000  # a checkpoint's message (and a delay's text opened from it)
CARRIER_MAX = 32  # the carrier's name or code
CARRIER_STATUS_MAX = 100  # the carrier's own status code, kept for audit
# The location label "city, region postal, country" stays within 200 characters.
CITY_MAX = 80
REGION_MAX = 40
POSTAL_CODE_MAX = 20
COUNTRY_MAX = 40
URL_MAX = 500  # a longer public tracking URL is dropped, never cut
ELLIPSIS = "\u2026"

_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\u180e"
)
_SPACES = re.compile(r"\s+")


def _keep(char: str) -> str:
    if char in _INVISIBLE:
        return ""
    category = unicodedata.category(char)
    if category == "Cc" or char in "\u2028\u2029":
        return " " if char.isspace() else ""
    if category == "Cs":
        return ""
    return char


def clean_text(value: str, limit: int | None = None) -> str:
    """``value`` without control, invisible or unencodable characters, at most ``limit`` long."""
    text = _SPACES.sub(" ", "".join(map(_keep, value))).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def _optional(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return clean_text(value, limit) or None


def _location(location: Location | None) -> Location | None:
    if location is None:
        return None
    cleaned = Location(
        city=_optional(location.city, CITY_MAX),
        region=_optional(location.region, REGION_MAX),
        postal_code=_optional(location.postal_code, POSTAL_CODE_MAX),
        country=_optional(location.country, COUNTRY_MAX),
    )
    return None if cleaned.is_empty() else cleaned


def _url(url: str | None) -> str | None:
    if url is None or len(url) > URL_MAX or clean_text(url) != url:
        return None
    return url


def normalise_update(update: TrackingUpdate) -> TrackingUpdate:
    """The update with every text field cleaned and cut (the tracking number is never cut)."""
    return replace(
        update,
        tracking_number=clean_text(update.tracking_number),
        carrier=clean_text(update.carrier, CARRIER_MAX),
        message=clean_text(update.message, MESSAGE_MAX),
        carrier_status=clean_text(update.carrier_status, CARRIER_STATUS_MAX),
        location=_location(update.location),
        public_url=_url(update.public_url),
    )


def normalise_webhook(parsed: ParsedWebhook) -> ParsedWebhook:
    """Every update of one delivery normalised; the dedupe key is left as sent."""
    return replace(parsed, updates=tuple(normalise_update(u) for u in parsed.updates))
