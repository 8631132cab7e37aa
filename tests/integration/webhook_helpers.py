"""Sending signed carrier webhooks at a test portal."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx

from carriers.registry import get_adapter
from tests.integration.conftest import WEBHOOK_SECRET, Portal


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
    adapter = get_adapter("generic")
    assert adapter is not None
    when = occurred_at or portal.clock()
    payload = {
        "tracking_number": tracking_number,
        "carrier": carrier,
        "status": status,
        "occurred_at": when.isoformat().replace("+00:00", "Z"),
        "location": location or {"city": "Leipzig", "region": "SN", "country": "DE"},
        "message": message,
        "estimated_delivery": estimated_delivery,
        "reason_code": reason_code,
    }
    body = json.dumps(payload).encode()
    headers, query = adapter.sign(body, WEBHOOK_SECRET, portal.clock())
    if msg_id is not None:
        headers = dict(headers)
        headers["webhook-id"] = msg_id
        headers, query = _resign(adapter, body, msg_id, portal)
    return await portal.client.post(
        "/webhooks/generic",
        content=body,
        params=query,
        headers={**headers, "Content-Type": "application/json"},
    )


def _resign(
    adapter: Any, body: bytes, msg_id: str, portal: Portal
) -> tuple[dict[str, str], dict[str, str]]:
    import base64
    import hashlib
    import hmac

    ts = str(int(portal.clock().timestamp()))
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    sig = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": f"v1,{sig}"}, {}


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex
