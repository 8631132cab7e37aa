"""Poison text from an authenticated carrier: never a 500, stored normalised, rendered escaped.

Each adapter's exception fixture has its newest checkpoint's message and city replaced by text
carrying NUL, a lone surrogate, bidirectional overrides, zero-width characters, markup and more
length than any column holds (a message over 1,000 characters opens a delay with it too).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from sqlalchemy import select

from portal.models import WebhookReceipt
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    new_tracking_number,
    parse,
    retarget,
)
from tests.integration.webhooks.conftest import ship

EXCEPTIONS = {
    "easypost": ("usps", "delivery_exception"),
    "aftership": ("dhl", "exception_customs"),
    "shippo": ("usps", "failure_lost"),
    "ups": ("ups", "exception_weather"),
    "fedex": ("fedex", "delivery_exception"),
    "generic": ("dhl", "single"),
}
NASTY = '\x00\ud800\u202e\u200b\u2066\x07\r\n\t<b>bold</b> & "quoted"'
POISON_MESSAGE = "Parcel " + NASTY + " damaged " + "x" * 1500
POISON_CITY = "Leip\x00zig\u202e" + "y" * 300


def _replace(tree: Any, old: str, new: str) -> tuple[Any, int]:
    if isinstance(tree, dict):
        count = 0
        out = {}
        for key, value in tree.items():
            out[key], n = _replace(value, old, new)
            count += n
        return out, count
    if isinstance(tree, list):
        pairs = [_replace(item, old, new) for item in tree]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(tree, str) and tree.strip().lower() == old.lower():
        return new, 1
    return tree, 0


def _strings(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        return [s for value in tree.values() for s in _strings(value)]
    if isinstance(tree, list):
        return [s for item in tree for s in _strings(item)]
    return [tree] if isinstance(tree, str) else []


def _source_of(tree: Any, text: str) -> str:
    """The body's string the adapter made ``text`` from (the whole of it, or its longest part)."""
    parts = [s for s in _strings(tree) if len(s.strip()) >= 8 and s.strip().lower() in text.lower()]
    assert parts, f"{text!r} is not in the body"
    return max(parts, key=len)


def poisoned(provider: str, name: str, tracking_number: str) -> bytes:
    body = retarget(provider, name, tracking_number)
    newest = max(parse(provider, body).updates, key=lambda u: u.occurred_at)
    tree = json.loads(body)
    if provider == "generic":
        tree["status"] = "exception"
    tree, messages = _replace(tree, _source_of(tree, newest.message), POISON_MESSAGE)
    assert messages
    if newest.location is not None and newest.location.city:
        tree, _ = _replace(tree, newest.location.city, POISON_CITY)
    return json.dumps(tree).encode()


def assert_clean(text: str | None, limit: int) -> None:
    assert text is not None
    assert len(text) <= limit
    for char in text:
        assert unicodedata.category(char) not in ("Cc", "Cs", "Cf"), repr(char)


@pytest.mark.parametrize("provider", sorted(EXCEPTIONS))
async def test_poison_text_is_stored_normalised_and_shown_escaped(
    portal: Portal, provider: str
) -> None:
    shop_carrier, fixture = EXCEPTIONS[provider]
    shipped = await ship(portal, shop_carrier, new_tracking_number())
    body = poisoned(provider, fixture, shipped.tracking_number)
    answer = await deliver(portal, provider, body)
    assert answer.status_code == 200, answer.text
    order = await shipped.order()
    checkpoints = [e for e in order["events"] if e["kind"] == "checkpoint"]
    poisoned_events = [e for e in checkpoints if "damaged" in e["message"]]
    assert poisoned_events, checkpoints
    for event in checkpoints:
        assert_clean(event["message"], 1000)
        if event["location"] is not None:
            assert_clean(event["location"], 200)
    assert poisoned_events[-1]["message"].endswith("\u2026")
    assert 'Parcel <b>bold</b> & "quoted" damaged x' in poisoned_events[-1]["message"]
    # An exception opens a delay carrying the same (cut) message.
    assert order["delays"], order
    assert_clean(order["delays"][0]["message"], 1000)

    # The raw body stays whole in the receipt.
    async with portal.runtime.db.read() as session:
        receipt = (await session.execute(select(WebhookReceipt))).scalars().one()
    assert receipt.body == body.decode()

    page = await portal.client.get(
        shipped.tracking_url.removeprefix(portal.runtime.settings.base_url)
    )
    assert page.status_code == 200
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text and "<b>bold</b>" not in page.text
    assert "\u202e" not in page.text and "\x00" not in page.text

    for notice in await shipped.notifications():
        for part in (notice["subject"], notice["body"]):
            assert "\x00" not in part and "\u202e" not in part and "\u200b" not in part


async def test_a_raw_nul_byte_in_an_authenticated_body_is_a_dead_letter_not_a_500(
    portal: Portal,
) -> None:
    shipped = await ship(portal, "dhl")
    body = retarget("generic", "single", shipped.tracking_number).replace(b'"', b'"\x00', 1)
    answer = await deliver(portal, "generic", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_payload"
    async with portal.runtime.db.read() as session:
        receipt = (await session.execute(select(WebhookReceipt))).scalars().one()
    assert receipt.outcome == "dead_letter"
