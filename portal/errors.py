"""Domain errors: small classes, mapped to JSON or pages in one place (portal.web.errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PortalError(Exception):
    """Base of every error a user can cause; carries an HTTP status and a stable code.

    ``code`` may be given per instance (a webhook refusal names why); ``headers`` go on the
    answer (Retry-After, Connection).
    """

    status_code = 400
    code = "bad_request"
    headers: Mapping[str, str] = {}

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if headers is not None:
            self.headers = {**self.headers, **headers}


class ValidationFailed(PortalError):
    status_code = 422
    code = "validation_failed"


class Unauthorized(PortalError):
    status_code = 401
    code = "unauthorized"


class Forbidden(PortalError):
    status_code = 403
    code = "forbidden"


class NotFound(PortalError):
    status_code = 404
    code = "not_found"


class Conflict(PortalError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooManyRequests(PortalError):
    status_code = 429
    code = "rate_limited"


class PayloadTooLarge(PortalError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(PortalError):
    status_code = 415
    code = "unsupported_media_type"


class RequestTimeout(PortalError):
    """The body did not arrive in time (a slow sender); the connection is closed after."""

    status_code = 408
    code = "request_timeout"
    headers = {"Connection": "close"}


class DatabaseBusy(PortalError):
    """The database could not take the write in time; nothing was written, retry later."""

    status_code = 503
    code = "database_busy"
    headers = {"Retry-After": "2"}


class UnknownCarrier(NotFound):
    code = "unknown_carrier"


class WebhookRefused(PortalError):
    """Not from the carrier: signature_missing, signature_invalid, timestamp_out_of_tolerance."""

    status_code = 401
    code = "signature_invalid"


class InvalidPayload(PortalError):
    """Authenticated but unparseable; the body was kept as a dead letter."""

    status_code = 400
    code = "invalid_payload"
