"""Realistic carrier payloads re-targeted at a test shipment, signed like the carrier would."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx

from carriers.base import ParsedWebhook
from carriers.registry import get_adapter
from tests import webhook_sender
from tests.integration.conftest import WEBHOOK_SECRET, Portal
from tests.unit.carriers.carriers_fixtures import payload
from tests.webhook_sender import Signed as Signed
from tests.webhook_sender import generic_body as generic_body

# Two secrets per carrier: the first is the current one, the second the one being rotated in.
SECRETS: dict[str, tuple[str, ...]] = {
    "generic": (WEBHOOK_SECRET, "whsec_" + "cm90YXRlZC1zZWNvbmQta2V5LWZvci10ZXN0cy0wOTg3"),
    "easypost": ("ep-current-secret", "ep-rotated-secret"),
    "aftership": ("as-current-secret", "as-rotated-secret"),
    "shippo": ("shippo-current-token", "shippo-rotated-token"),
    "ups": ("ups-current-credential", "ups-rotated-credential"),
    "fedex": ("fedex-current-token", "fedex-rotated-token"),
}

# The fixtures are written around early March 2027; their dates move to end on today.
FIXTURE_LAST_DAY = date(2027, 3, 6)
_ISO_DAY = re.compile(r"(?<![\d-])(20\d\d)-(\d\d)-(\d\d)(?!\d)")
_COMPACT_DAY = re.compile(r'"(20\d\d)(\d\d)(\d\d)"')
_EPOCH = re.compile(r'("ts":\s*)(\d{9,11})')
# Event ids that are the dedupe key; a fresh one per sending keeps tests independent.
_EVENT_ID_PROVIDERS = ("easypost", "aftership")


def day_shift() -> timedelta:
    return datetime.now(UTC).date() - FIXTURE_LAST_DAY


def new_tracking_number(prefix: str = "TT") -> str:
    return prefix + uuid.uuid4().hex[:14].upper()


def parse(provider: str, body: bytes, headers: dict[str, str] | None = None) -> ParsedWebhook:
    adapter = get_adapter(provider)
    assert adapter is not None
    return adapter.parse(body, headers or {"webhook-id": "msg_probe"})


def shift_dates(text: str, shift: timedelta) -> str:
    """Move every calendar date of a fixture by whole days, keeping the times of day."""

    def iso(match: re.Match[str]) -> str:
        day = date(int(match[1]), int(match[2]), int(match[3])) + shift
        return day.isoformat()

    def compact(match: re.Match[str]) -> str:
        day = date(int(match[1]), int(match[2]), int(match[3])) + shift
        return f'"{day.strftime("%Y%m%d")}"'

    def epoch(match: re.Match[str]) -> str:
        return f"{match[1]}{int(match[2]) + int(shift.total_seconds())}"

    return _EPOCH.sub(epoch, _COMPACT_DAY.sub(compact, _ISO_DAY.sub(iso, text)))


def retarget(provider: str, name: str, tracking_number: str, *, fresh_id: bool = True) -> bytes:
    """A fixture with its tracking number replaced, its dates moved to now and a fresh event id."""
    raw = payload(provider, name)
    original = parse(provider, raw)
    text = raw.decode()
    numbers = {u.tracking_number for u in original.updates}
    assert len(numbers) == 1, f"{provider}/{name} names {numbers}"
    (number,) = numbers
    assert number in text or number.lower() in text.lower()
    text = re.sub(re.escape(number), tracking_number, text, flags=re.IGNORECASE)
    if fresh_id and provider in _EVENT_ID_PROVIDERS:
        text = text.replace(original.dedupe_key, f"evt_{uuid.uuid4().hex}")
    text = shift_dates(text, day_shift())
    body = text.encode()
    assert {u.tracking_number for u in parse(provider, body).updates} == {tracking_number}
    return body


def shifted(moment: str) -> datetime:
    """A fixture time (as written in the fixture, UTC) after the day shift."""
    return datetime.fromisoformat(moment).astimezone(UTC) + day_shift()


def sign(
    portal: Portal,
    provider: str,
    body: bytes,
    secret: str | None = None,
    *,
    at: datetime | None = None,
) -> Signed:
    """Signed as the carrier signs, at ``at`` (default: now), with its test secret or ``secret``."""
    secret = secret or SECRETS[provider][0]
    return webhook_sender.sign(provider, body, secret, at or portal.clock())


async def deliver(
    portal: Portal,
    provider: str,
    body: bytes,
    *,
    secret: str | None = None,
    signed: Signed | None = None,
    extra_headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    """POST a body to /webhooks/{provider}, signed as that provider signs (or as given)."""
    signed = signed or sign(portal, provider, body, secret)
    return await webhook_sender.post_signed(
        portal.client,
        provider,
        body,
        signed,
        content_type=content_type,
        extra_headers=extra_headers,
    )
