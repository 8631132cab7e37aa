"""The tests' one way to send a signed carrier webhook: signed as the carrier signs (the adapter's
own signing, or the Standard Webhooks reference library for a chosen message id), posted to
``/webhooks/{provider}`` by an async client or, from tests driving a server process, synchronously.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import standardwebhooks

from carriers.registry import get_adapter

DEFAULT_LOCATION = {"city": "Leipzig", "region": "SN", "country": "DE"}


@dataclass
class Signed:
    headers: dict[str, str]
    query: dict[str, str]


def sign(
    provider: str, body: bytes, secret: str, at: datetime, *, message_id: str | None = None
) -> Signed:
    """The headers and query a carrier sends ``body`` with, signed at ``at``.

    ``message_id`` (generic only): the Standard Webhooks id to sign, instead of one derived from
    the body and time (a redelivery keeps its id).
    """
    if message_id is not None:
        if provider != "generic":
            raise ValueError("only the generic (Standard Webhooks) carrier signs a message id")
        at = at.astimezone(UTC)
        signature = standardwebhooks.Webhook(secret).sign(message_id, at, body.decode())
        stamp = str(int(at.timestamp()))
        headers = {"webhook-id": message_id, "webhook-timestamp": stamp}
        return Signed({**headers, "webhook-signature": signature}, {})
    adapter = get_adapter(provider)
    assert adapter is not None, provider
    headers, query = adapter.sign(body, secret, at)
    return Signed(dict(headers), dict(query))


def generic_body(
    tracking_number: str, status: str, occurred_at: datetime, message: str, **fields: Any
) -> bytes:
    """One generic carrier event; ``fields`` add to it or replace carrier and location."""
    event: dict[str, Any] = {
        "tracking_number": tracking_number,
        "carrier": fields.pop("carrier", "dhl"),
        "status": status,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "location": fields.pop("location", DEFAULT_LOCATION),
        "message": message,
    }
    event.update(fields)
    return json.dumps(event).encode()


def _request(
    provider: str, body: bytes, signed: Signed, content_type: str, extra: dict[str, str] | None
) -> dict[str, Any]:
    headers = {**signed.headers, "Content-Type": content_type, **(extra or {})}
    return {"content": body, "params": signed.query, "headers": headers}


async def post_signed(
    client: httpx.AsyncClient,
    provider: str,
    body: bytes,
    signed: Signed,
    *,
    content_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a signed body to the client's portal."""
    request = _request(provider, body, signed, content_type, extra_headers)
    return await client.post(f"/webhooks/{provider}", **request)


def post_signed_sync(
    base_url: str, provider: str, body: bytes, signed: Signed, *, timeout: float = 10
) -> httpx.Response:
    """POST a signed body to a portal running in another process."""
    request = _request(provider, body, signed, "application/json", None)
    return httpx.post(f"{base_url}/webhooks/{provider}", timeout=timeout, **request)
