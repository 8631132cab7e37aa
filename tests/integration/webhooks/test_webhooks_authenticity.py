"""Signatures and credentials: refused requests store nothing; rotation; what audit keeps."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from portal.app import create_app
from portal.models import WebhookReceipt
from portal.settings import Settings
from tests.integration.conftest import FrozenClock, Portal, add_api_key, migrated
from tests.integration.webhooks.carrier_payloads import (
    SECRETS,
    Signed,
    deliver,
    new_tracking_number,
    retarget,
    sign,
)
from tests.integration.webhooks.conftest import Shipped, ship

FIXTURES = {
    "easypost": "out_for_delivery",
    "aftership": "out_for_delivery",
    "shippo": "out_for_delivery",
    "ups": "out_for_delivery",
    "fedex": "out_for_delivery",
    "generic": "single",
}
SHOP_CARRIER = {"easypost": "usps", "shippo": "usps", "aftership": "dhl", "generic": "dhl"}


async def webhook_counter(portal: Portal, carrier: str, outcome: str) -> float:
    answer = await portal.client.get("/metrics")
    assert answer.status_code == 200
    pattern = (
        r"^portal_webhooks_total\{"
        rf'carrier="{carrier}",outcome="{outcome}"\}} ([0-9.e+]+)$'
    )
    found = re.search(pattern, answer.text, re.MULTILINE)
    return float(found[1]) if found else 0.0


async def receipts(portal: Portal) -> int:
    async with portal.runtime.db.read() as session:
        return int((await session.execute(select(func.count(col(WebhookReceipt.id))))).scalar_one())


async def shipped_for(portal: Portal, provider: str) -> tuple[Shipped, bytes]:
    shipped = await ship(portal, SHOP_CARRIER.get(provider, provider))
    return shipped, retarget(provider, FIXTURES[provider], shipped.tracking_number)


def tampered(provider: str, signed: Signed) -> Signed:
    """The same request with its proof altered by one character."""
    headers, query = dict(signed.headers), dict(signed.query)
    if provider == "shippo":
        query["token"] = query["token"][:-1] + "X"
    else:
        name = next(iter(headers)) if provider != "generic" else "webhook-signature"
        value = headers[name]
        # A digit is valid in hex and base64 alike, and has no other case to fold into.
        headers[name] = value[:-2] + ("0" if value[-2] != "0" else "1") + value[-1]
    return Signed(headers, query)


async def assert_refused(portal: Portal, provider: str, answer_status: int, before: float) -> None:
    assert answer_status == 401
    assert await receipts(portal) == 0
    assert await webhook_counter(portal, provider, "rejected") == before + 1


@pytest.mark.parametrize("provider", sorted(FIXTURES))
async def test_a_bad_signature_is_401_stores_nothing_and_is_counted(
    portal: Portal, provider: str
) -> None:
    shipped, body = await shipped_for(portal, provider)
    events_before = len((await shipped.order())["events"])
    before = await webhook_counter(portal, provider, "rejected")

    signed = tampered(provider, sign(portal, provider, body))
    answer = await deliver(portal, provider, body, signed=signed)
    assert answer.json()["error"]["code"] == "signature_invalid"
    assert answer.json()["error"]["message"]
    await assert_refused(portal, provider, answer.status_code, before)

    # The body changed after signing.
    signed = sign(portal, provider, body)
    altered = body + b" "  # still the same JSON, but not the signed bytes
    answer = await deliver(portal, provider, altered, signed=signed)
    if provider == "ups":
        # UPS proves the sender with a credential, not a signature over the body.
        assert answer.status_code == 200
        return
    await assert_refused(portal, provider, answer.status_code, before + 1)

    answer = await deliver(portal, provider, body, signed=Signed({}, {}))
    await assert_refused(portal, provider, answer.status_code, before + 2)

    answer = await deliver(portal, provider, body, secret=_wrong_secret(provider))
    await assert_refused(portal, provider, answer.status_code, before + 3)
    assert len((await shipped.order())["events"]) == events_before


def _wrong_secret(provider: str) -> str:
    if provider == "generic":
        return "whsec_" + "d3Jvbmcta2V5LW5vdC1jb25maWd1cmVkLWFueXdoZXJl"
    return "not-the-configured-secret"


async def test_a_generic_webhook_six_minutes_old_is_refused(portal: Portal) -> None:
    shipped, body = await shipped_for(portal, "generic")
    before = await webhook_counter(portal, "generic", "rejected")
    signed = sign(portal, "generic", body, at=portal.clock() - timedelta(minutes=6))
    answer = await deliver(portal, "generic", body, signed=signed)
    await assert_refused(portal, "generic", answer.status_code, before)
    assert "tolerance" in answer.json()["error"]["message"]

    # Four minutes old is within the tolerance.
    signed = sign(portal, "generic", body, at=portal.clock() - timedelta(minutes=4))
    answer = await deliver(portal, "generic", body, signed=signed)
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    assert len(await shipped.checkpoints()) == 1


async def test_a_shippo_signature_header_six_minutes_old_is_refused(portal: Portal) -> None:
    _, body = await shipped_for(portal, "shippo")
    before = await webhook_counter(portal, "shippo", "rejected")
    signed = sign(portal, "shippo", body, at=portal.clock() - timedelta(minutes=6))
    answer = await deliver(portal, "shippo", body, signed=signed)
    await assert_refused(portal, "shippo", answer.status_code, before)


@pytest.fixture
async def generic_only(settings: Settings, clock: FrozenClock) -> AsyncIterator[Portal]:
    """A portal that holds secrets for the generic receiver only."""
    await migrated(settings.database_url)
    key = await add_api_key(settings.database_url)
    only = replace(settings, webhook_secrets={"generic": SECRETS["generic"]})
    app = create_app(only, clock=clock, dispatcher=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            yield Portal(app, client, key, clock)


async def test_a_carrier_without_secrets_is_refused(generic_only: Portal) -> None:
    _, body = await shipped_for(generic_only, "fedex")
    before = await webhook_counter(generic_only, "fedex", "rejected")
    answer = await deliver(generic_only, "fedex", body)
    await assert_refused(generic_only, "fedex", answer.status_code, before)


@pytest.mark.parametrize("provider", sorted(FIXTURES))
async def test_either_secret_of_a_rotation_is_accepted(portal: Portal, provider: str) -> None:
    current, rotated = SECRETS[provider]
    for secret in (current, rotated):
        shipped, body = await shipped_for(portal, provider)
        answer = await deliver(portal, provider, body, secret=secret)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "applied"
        assert await shipped.checkpoints()


async def test_ups_credential_as_header_or_bearer(portal: Portal) -> None:
    for headers in (
        {"credential": SECRETS["ups"][0]},
        {"Authorization": f"Bearer {SECRETS['ups'][1]}"},
        {"authorization": f"bearer {SECRETS['ups'][0]}"},
    ):
        shipped, body = await shipped_for(portal, "ups")
        answer = await deliver(portal, "ups", body, signed=Signed(headers, {}))
        assert answer.status_code == 200, answer.text
        assert (await shipped.order())["status"] == "out_for_delivery"
    before = await webhook_counter(portal, "ups", "rejected")
    stored = await receipts(portal)
    for headers in (
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {SECRETS['ups'][0]}"},
        {"credential": ""},
    ):
        answer = await deliver(portal, "ups", body, signed=Signed(headers, {}))
        assert answer.status_code == 401
    assert await receipts(portal) == stored
    assert await webhook_counter(portal, "ups", "rejected") == before + 3


async def test_audit_headers_never_keep_credentials(portal: Portal) -> None:
    ups_secret, shippo_token = SECRETS["ups"][0], SECRETS["shippo"][0]
    _, body = await shipped_for(portal, "ups")
    answer = await deliver(
        portal,
        "ups",
        body,
        signed=Signed({"credential": ups_secret}, {}),
        extra_headers={"Authorization": f"Bearer {ups_secret}", "X-Request-Id": "req-1"},
    )
    assert answer.status_code == 200
    unmatched = await deliver(
        portal, "ups", retarget("ups", "delivered", new_tracking_number("1Z")),
        signed=Signed({"Authorization": f"Bearer {SECRETS['ups'][1]}"}, {}),
    )  # fmt: skip
    assert unmatched.status_code == 202
    _, body = await shipped_for(portal, "shippo")
    answer = await deliver(portal, "shippo", body)
    assert answer.status_code == 200

    async with portal.runtime.db.read() as session:
        rows = list((await session.execute(select(WebhookReceipt))).scalars())
    assert len(rows) == 3
    for row in rows:
        kept = json.loads(row.headers)
        lowered = {k.lower() for k in kept}
        assert not lowered & {"credential", "authorization", "cookie"}
        for secret in (*SECRETS["ups"], *SECRETS["shippo"]):
            assert secret not in row.headers and secret not in row.body
            assert secret not in (row.error or "")
    ups, ups_unmatched, shippo = (json.loads(r.headers) for r in sorted(rows, key=lambda r: r.id))
    assert ups["x-request-id"] == "req-1" and ups["content-type"] == "application/json"
    assert ups_unmatched["content-type"] == "application/json"
    assert shippo["shippo-auth-signature"].startswith("t=")
    assert shippo_token not in json.dumps(shippo) and ups_secret not in json.dumps(ups)
