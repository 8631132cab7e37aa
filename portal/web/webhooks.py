"""POST /webhooks/{carrier}: size, signature, parse, one transaction, publish, answer."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carriers.base import PayloadError, SignatureError
from carriers.registry import get_adapter

from ..services import webhooks as service
from .errors import json_error

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 256 * 1024
_STATUS = {
    service.Outcome.APPLIED: 200,
    service.Outcome.DUPLICATE: 200,
    service.Outcome.UNMATCHED: 202,
}


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


async def receive(request: Request) -> Response:
    runtime = request.app.state.runtime
    carrier = request.path_params["carrier"].lower()
    adapter = get_adapter(carrier)
    if adapter is None:
        return json_error(404, "unknown_carrier", f"no webhook receiver for carrier {carrier!r}")
    metrics = runtime.metrics.webhooks
    try:
        body = await _read_limited(request, MAX_WEBHOOK_BODY)
    except _TooLarge:
        metrics.labels(carrier, "too_large").inc()
        return json_error(
            413, "payload_too_large", f"webhook bodies are limited to {MAX_WEBHOOK_BODY} bytes"
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "application/webhook+json"):
        metrics.labels(carrier, "bad_media_type").inc()
        return json_error(415, "unsupported_media_type", "send the webhook as application/json")
    now = runtime.clock()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        adapter.verify(
            body, headers, dict(request.query_params), runtime.settings.secrets_for(carrier), now
        )
    except SignatureError as exc:
        metrics.labels(carrier, "rejected").inc()
        return json_error(401, "invalid_signature", str(exc))
    try:
        parsed = adapter.parse(body, headers)
    except PayloadError as exc:
        receipt_id = await service.record_dead_letter(
            runtime.db, carrier, body, headers, str(exc), now
        )
        metrics.labels(carrier, service.Outcome.DEAD_LETTER).inc()
        log.warning("webhook from %s kept as dead letter %s: %s", carrier, receipt_id, exc)
        return json_error(400, "unparseable_payload", str(exc), {"receipt_id": receipt_id})
    uow = runtime.new_uow()
    result = await service.ingest(runtime.db, uow, carrier, parsed, body, headers, now)
    await runtime.after_commit(uow)
    metrics.labels(carrier, result.outcome).inc()
    return JSONResponse(
        {
            "outcome": result.outcome,
            "receipt_id": result.receipt_id,
            "events": result.applied_events,
            "unmatched": list(result.unmatched),
        },
        status_code=_STATUS.get(result.outcome, 200),
    )


routes = [Route("/webhooks/{carrier}", receive, methods=["POST"])]
