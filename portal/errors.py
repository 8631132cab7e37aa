"""Domain errors: small classes, mapped to JSON or pages in one place (portal.web.errors)."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """Base of every error a user can cause; carries an HTTP status and a stable code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


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
