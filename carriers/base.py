"""The shared vocabulary of every carrier adapter: typed updates, errors, the adapter protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from carriers.status import ReasonCode, ShipmentStatus

__all__ = [
    "CarrierAdapter",
    "Location",
    "ParsedWebhook",
    "PayloadError",
    "SignatureError",
    "SignatureMissing",
    "TimestampOutOfTolerance",
    "TrackingUpdate",
    "WebhookError",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a checkpoint happened, as far as the carrier told us."""

    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def label(self) -> str:
        """A one-line label such as ``"Leipzig, SN, DE"``; empty parts are skipped.

        The postal code, when known, follows the region (``"Charlotte, NC 28209, US"``).
        """
        region = " ".join(part for part in (self.region, self.postal_code) if part)
        return ", ".join(part for part in (self.city, region, self.country) if part)

    def is_empty(self) -> bool:
        """True when the carrier gave no location detail at all."""
        return not (self.city or self.region or self.postal_code or self.country)


@dataclass(frozen=True, slots=True)
class TrackingUpdate:
    """One carrier checkpoint, in the portal's canonical terms."""

    tracking_number: str
    carrier: str
    status: ShipmentStatus
    occurred_at: datetime
    message: str
    carrier_status: str
    location: Location | None = None
    reason_code: ReasonCode | None = None
    estimated_delivery: date | None = None
    public_url: str | None = None

    def __post_init__(self) -> None:
        # A naive or non-UTC time here is a bug in an adapter, never bad input: adapters
        # convert every provider time to UTC before building an update.
        if self.occurred_at.utcoffset() != timedelta(0):
            raise ValueError("TrackingUpdate.occurred_at must be a UTC-aware datetime")


@dataclass(frozen=True, slots=True)
class ParsedWebhook:
    """What one delivery of one webhook carried."""

    dedupe_key: str
    updates: tuple[TrackingUpdate, ...]


class WebhookError(Exception):
    """Base of the errors an adapter raises; ``code`` goes into the portal's JSON error."""

    code: str = "webhook_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(WebhookError):
    """Bad signature or credential, or none configured: the portal answers 401.

    The subclasses say more: no signature at all, or a timestamp outside the tolerance.
    """

    code = "signature_invalid"


class SignatureMissing(SignatureError):
    """The request carries no signature or credential."""

    code = "signature_missing"


class TimestampOutOfTolerance(SignatureError):
    """The signed timestamp is more than the tolerance (5 minutes) away from now."""

    code = "timestamp_out_of_tolerance"


class PayloadError(WebhookError):
    """Authenticated but unparseable or wrongly shaped: 400, and the portal keeps a dead letter."""

    code = "invalid_payload"


@runtime_checkable
class CarrierAdapter(Protocol):
    """What the portal needs from one webhook provider."""

    name: str

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        """Raise ``SignatureError`` unless the request was sent by the provider."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        """Turn a verified body into canonical updates; raises ``PayloadError`` only."""
        ...

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The (headers, query) a genuine sender would attach to ``body``."""
        ...
