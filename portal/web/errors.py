"""One place that turns errors into responses: JSON for the API and webhooks, pages for browsers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..busy import is_database_busy
from ..errors import DatabaseBusy, PortalError, ValidationFailed
from ..logs import redact

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def from_validation_error(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed("the request body has invalid fields", details=validation_details(exc))


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.startswith("/webhooks/")


def json_error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status, headers=dict(headers or {})
    )


async def _page(
    request: Request,
    status: int,
    title: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    runtime = request.app.state.runtime
    return runtime.page(
        request, "error.html", {"title": title, "message": message}, status=status, headers=headers
    )


async def portal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalError)
    if wants_json(request):
        return json_error(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
    return await _page(request, exc.status_code, "Something is not right", exc.message, exc.headers)


async def database_error(request: Request, exc: Exception) -> Response:
    """A database that could not take the write in time is 503 with Retry-After, never a 500.

    The transaction was rolled back by the session's context, so nothing was partly written.
    """
    if not is_database_busy(exc):
        return await server_error(request, exc)
    log.warning("database busy on %s %s", request.method, redact(request.url.path))
    busy = DatabaseBusy("the database is busy; retry after a moment")
    if wants_json(request):
        return json_error(busy.status_code, busy.code, busy.message, headers=busy.headers)
    return await _page(
        request, 503, "Please try again", "We are very busy right now.", busy.headers
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if wants_json(request):
        return json_error(exc.status_code, code, message)
    if exc.status_code == 404:
        return await _page(request, 404, "Page not found", "There is nothing at this address.")
    return await _page(request, exc.status_code, "Something is not right", message)


async def server_error(request: Request, exc: Exception) -> Response:
    # The path is redacted: a tracking page's path is its share-link token.
    log.exception("unhandled error on %s %s", request.method, redact(request.url.path))
    if wants_json(request):
        return json_error(500, "internal_error", "the portal failed to handle this request")
    return await _page(request, 500, "Sorry", "Something went wrong on our side. Please try again.")


HANDLERS = {
    PortalError: portal_error,
    HTTPException: http_error,
    DBAPIError: database_error,
    Exception: server_error,
}
