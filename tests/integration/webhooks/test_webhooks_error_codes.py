"""DESIGN.md "Webhook error codes", exactly; the rotation and unknown-status metrics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import SECRETS, Signed, deliver, sign
from tests.integration.webhooks.conftest import ship
from tests.integration.webhooks.test_webhooks_authenticity import (
    FIXTURES,
    receipts,
    shipped_for,
    tampered,
)


def assert_error(answer: object, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.json()["error"]["code"] == code  # type: ignore[attr-defined]
    assert answer.json()["error"]["message"]  # type: ignore[attr-defined]


async def metric(portal: Portal, name: str, **labels: str) -> float:
    text = (await portal.client.get("/metrics")).text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}\{{{wanted}\}} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


@pytest.mark.parametrize("provider", sorted(FIXTURES))
async def test_no_signature_is_signature_missing_and_a_wrong_one_signature_invalid(
    portal: Portal, provider: str
) -> None:
    _, body = await shipped_for(portal, provider)
    assert_error(
        await deliver(portal, provider, body, signed=Signed({}, {})), 401, "signature_missing"
    )
    signed = tampered(provider, sign(portal, provider, body))
    assert_error(await deliver(portal, provider, body, signed=signed), 401, "signature_invalid")
    assert await receipts(portal) == 0


@pytest.mark.parametrize("provider", ["generic", "shippo"])
@pytest.mark.parametrize("direction", [-1, 1])
async def test_the_tolerance_is_300_seconds_either_way(
    portal: Portal, provider: str, direction: int
) -> None:
    shipped, body = await shipped_for(portal, provider)
    sent_at = portal.clock() + direction * timedelta(seconds=301)
    answer = await deliver(portal, provider, body, signed=sign(portal, provider, body, at=sent_at))
    assert_error(answer, 401, "timestamp_out_of_tolerance")
    assert await receipts(portal) == 0

    sent_at = portal.clock() + direction * timedelta(seconds=299)
    answer = await deliver(portal, provider, body, signed=sign(portal, provider, body, at=sent_at))
    assert answer.status_code == 200, answer.text
    assert await shipped.checkpoints()


async def test_an_authenticated_unparseable_body_is_invalid_payload(portal: Portal) -> None:
    answer = await deliver(portal, "generic", b'{"tracking_number": 12')
    assert_error(answer, 400, "invalid_payload")
    assert answer.json()["error"]["details"]["receipt_id"]


@pytest.mark.parametrize("provider", sorted(FIXTURES))
async def test_the_secret_that_matched_is_counted(portal: Portal, provider: str) -> None:
    before = [
        await metric(portal, "portal_webhook_secret_matches_total", carrier=provider, slot=s)
        for s in "01"
    ]
    for slot, secret in enumerate(SECRETS[provider]):
        _, body = await shipped_for(portal, provider)
        answer = await deliver(portal, provider, body, secret=secret)
        assert answer.status_code == 200, answer.text
        after = await metric(
            portal, "portal_webhook_secret_matches_total", carrier=provider, slot=str(slot)
        )
        assert after == before[slot] + 1
    # The old secret's use is visible on its own.
    assert (
        await metric(portal, "portal_webhook_secret_matches_total", carrier=provider, slot="1")
        == before[1] + 1
    )


async def test_unknown_carrier_statuses_are_counted(portal: Portal) -> None:
    from tests.integration.webhook_helpers import send_generic

    shipped = await ship(portal, "dhl")
    before = await metric(portal, "portal_webhook_unknown_statuses_total", carrier="generic")
    answer = await send_generic(portal, shipped.tracking_number, "unknown", "Scanned somewhere")
    assert answer.status_code == 200, answer.text
    assert (
        await metric(portal, "portal_webhook_unknown_statuses_total", carrier="generic")
        == before + 1
    )
