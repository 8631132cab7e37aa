"""POST /webhooks/{carrier}: size, signature, parse, one transaction, publish, answer.

Every refusal is a typed error (portal.errors) answered by the one handler map (web/errors.py)
with the codes of DESIGN.md "Webhook error codes".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carriers.base import CarrierAdapter, PayloadError, SignatureError
from carriers.registry import get_adapter
from carriers.status import ShipmentStatus

from ..errors import (
    InvalidPayload,
    PayloadTooLarge,
    UnknownCarrier,
    UnsupportedMediaType,
    WebhookRefused,
)
from ..services import webhooks as service
from ..services.webhook_receipts import Outcome, record_dead_letter
from .body import read_body

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 256 * 1024
WEBHOOK_MEDIA_TYPES = ("application/json", "application/webhook+json")
_STATUS = {
    Outcome.APPLIED: 200,
    Outcome.DUPLICATE: 200,
    Outcome.UNMATCHED: 202,
}


def rotation_slot(
    adapter: CarrierAdapter,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    secrets: Sequence[str],
    now: datetime,
) -> int:
    """Which configured secret (0: the first listed) a request already verified was signed with.

    Called only after ``verify`` accepted the request against all of them, so trying them one
    by one tells a genuine sender nothing it does not know; with one secret there is nothing to try.
    """
    if len(secrets) <= 1:
        return 0
    for slot, secret in enumerate(secrets):
        try:
            adapter.verify(body, headers, query, [secret], now)
        except SignatureError:
            continue
        return slot
    return -1


async def _verified_body(request: Request, carrier: str, adapter: CarrierAdapter) -> bytes:
    runtime = request.app.state.runtime
    metrics = runtime.metrics
    try:
        body = await read_body(request, limit=MAX_WEBHOOK_BODY, media_types=WEBHOOK_MEDIA_TYPES)
    except PayloadTooLarge:
        metrics.webhooks.labels(carrier, "too_large").inc()
        raise
    except UnsupportedMediaType:
        metrics.webhooks.labels(carrier, "bad_media_type").inc()
        raise
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = dict(request.query_params)
    secrets = runtime.settings.secrets_for(carrier)
    now = runtime.clock()
    try:
        adapter.verify(body, headers, query, secrets, now)
    except SignatureError as exc:
        metrics.webhooks.labels(carrier, "rejected").inc()
        raise WebhookRefused(exc.message, code=exc.code) from None
    slot = rotation_slot(adapter, body, headers, query, secrets, now)
    metrics.webhook_secret_matches.labels(carrier, str(slot)).inc()
    return body


async def receive(request: Request) -> Response:
    runtime = request.app.state.runtime
    carrier = request.path_params["carrier"].lower()
    adapter = get_adapter(carrier)
    if adapter is None:
        raise UnknownCarrier(f"no webhook receiver for carrier {carrier!r}")
    metrics = runtime.metrics
    body = await _verified_body(request, carrier, adapter)
    now = runtime.clock()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        parsed = adapter.parse(body, headers)
    except PayloadError as exc:
        receipt_id = await record_dead_letter(runtime.db, carrier, body, headers, str(exc), now)
        metrics.webhooks.labels(carrier, Outcome.DEAD_LETTER).inc()
        log.warning("webhook from %s kept as dead letter %s: %s", carrier, receipt_id, exc)
        raise InvalidPayload(str(exc), details={"receipt_id": receipt_id}) from None
    for update in parsed.updates:
        if update.status == ShipmentStatus.UNKNOWN:
            metrics.webhook_unknown_statuses.labels(carrier).inc()
    uow = runtime.new_uow()
    result = await service.ingest(runtime.db, uow, carrier, parsed, body, headers, now)
    await runtime.after_commit(uow)
    metrics.webhooks.labels(carrier, result.outcome).inc()
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
