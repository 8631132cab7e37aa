"""Sending generic carrier webhooks at a test portal (signed by tests.webhook_sender)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from tests.integration.conftest import WEBHOOK_SECRET, Portal
from tests.webhook_sender import DEFAULT_LOCATION, generic_body, post_signed, sign


async def send_generic(
    portal: Portal,
    tracking_number: str,
    status: str,
    message: str,
    *,
    occurred_at: datetime | None = None,
    reason_code: str | None = None,
    estimated_delivery: str | None = None,
    carrier: str = "dhl",
    location: dict[str, Any] | None = None,
    msg_id: str | None = None,
) -> httpx.Response:
    body = generic_body(
        tracking_number,
        status,
        occurred_at or portal.clock(),
        message,
        carrier=carrier,
        location=location or DEFAULT_LOCATION,
        estimated_delivery=estimated_delivery,
        reason_code=reason_code,
    )
    signed = sign("generic", body, WEBHOOK_SECRET, portal.clock(), message_id=msg_id)
    return await post_signed(portal.client, "generic", body, signed)


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex
