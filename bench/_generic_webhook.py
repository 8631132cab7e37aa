"""Signed generic (Standard Webhooks) carrier checkpoints, as the benchmarks send them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

SECRET = "whsec_" + base64.b64encode(b"bench-webhook-signing-key-0123456789").decode()


def signing_key(secret: str = SECRET) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def checkpoint(
    key: bytes,
    msg_id: str,
    stamp: str,
    tracking_number: str,
    occurred: datetime,
    message: str,
    status: str = "in_transit",
) -> tuple[bytes, dict[str, str]]:
    """One checkpoint for ``tracking_number``: (body, headers) signed at unix time ``stamp``."""
    body = json.dumps(
        {
            "tracking_number": tracking_number,
            "carrier": "dhl",
            "status": status,
            "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
            "location": {"city": "Leipzig", "region": "SN", "country": "DE"},
            "message": message,
            "estimated_delivery": None,
            "reason_code": None,
        }
    ).encode()
    signature = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return body, {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": f"v1,{signature}",
    }
