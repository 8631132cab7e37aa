"""What `portal demo` adds for the support console: a few CRM entries and a revoked link, so
an order screen shows what the log and the links list look like."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

log = logging.getLogger(__name__)

Api = Callable[[str, str, dict[str, Any] | None], Awaitable[httpx.Response]]

INTERACTIONS: tuple[tuple[int, dict[str, Any]], ...] = (
    (
        2,
        {
            "channel": "phone",
            "direction": "inbound",
            "outcome": "answered",
            "summary": "Asked when the parcel arrives; read out the estimate from the screen.",
            "duration_s": 180,
        },
    ),
    (
        2,
        {
            "channel": "email",
            "direction": "outbound",
            "outcome": "resolved",
            "summary": "Sent the tracking link again as asked.",
        },
    ),
    (
        3,
        {
            "channel": "chat",
            "direction": "inbound",
            "outcome": "resolved",
            "summary": "Confirmed the parcel was left at the front door.",
            "duration_s": 240,
        },
    ),
)


async def seed_console(api: Api, numbers: Sequence[str]) -> None:
    """Log the demo interactions and revoke one share link (on the first order) by the API."""
    for index, body in INTERACTIONS:
        if index < len(numbers):
            answer = await api("POST", f"/api/v1/orders/{numbers[index]}/interactions", body)
            if answer.status_code >= 300:
                log.warning("demo interaction answered %s", answer.status_code)
    if not numbers:
        return
    made = await api("POST", f"/api/v1/orders/{numbers[0]}/links", {"expires_in_days": 7})
    if made.status_code != 201:
        log.warning("demo link answered %s", made.status_code)
        return
    link_id = made.json()["id"]
    await api("POST", f"/api/v1/orders/{numbers[0]}/links/{link_id}/revoke", None)
