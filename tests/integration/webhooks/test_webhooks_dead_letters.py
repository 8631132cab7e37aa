"""Authenticated but unparseable webhooks are kept as dead letters, listed, and replayed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from carriers import registry
from carriers.base import ParsedWebhook
from carriers.generic import GenericAdapter
from portal.models import WebhookReceipt
from portal.services import webhooks as service
from portal.services import webhooks_admin
from portal.settings import Settings
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
    new_tracking_number,
    retarget,
)
from tests.integration.webhooks.conftest import Shipped, ship


class FixedGeneric(GenericAdapter):
    """The generic adapter after "a fix": it learnt the status name a sender got wrong."""

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        return super().parse(body.replace(b'"in-transit"', b'"in_transit"'), headers)


def misspelt(shipped: Shipped, message: str = "Arrived at the hub") -> bytes:
    body = generic_body(shipped.tracking_number, "in_transit", shipped.portal.clock(), message)
    return body.replace(b'"in_transit"', b'"in-transit"')


async def kept(portal: Portal, receipt_id: int) -> WebhookReceipt:
    async with portal.runtime.db.read() as session:
        row = await session.get(WebhookReceipt, receipt_id)
    assert row is not None
    return row


async def run_cli(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=settings.database_url,
        PORTAL_INSTANCE_DIR=str(tmp_path / "cli-instance"),
        PORTAL_SECRET_KEY="s" * 40,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portal",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_an_unparseable_webhook_is_400_and_kept_as_a_dead_letter(
    portal: Portal, shipped: Shipped
) -> None:
    body = misspelt(shipped)
    answer = await deliver(portal, "generic", body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_payload"
    assert "status" in error["message"] and "in-transit" in error["message"]
    receipt_id = error["details"]["receipt_id"]
    row = await kept(portal, receipt_id)
    assert row.outcome == "dead_letter" and row.body == body.decode()
    assert row.error and "in-transit" in row.error
    assert json.loads(row.headers)["webhook-id"]
    assert await shipped.checkpoints() == []

    # The same broken delivery again is the same dead letter, not a second one.
    again = await deliver(portal, "generic", body)
    assert again.status_code == 400
    assert again.json()["error"]["details"]["receipt_id"] == receipt_id
    async with portal.runtime.db.read() as session:
        count = (await session.execute(select(func.count(col(WebhookReceipt.id))))).scalar_one()
    assert count == 1


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("easypost", b'{"id": "evt_1", "description": "tracker.updated", "result": [1, 2]}'),
        ("ups", b'{"trackingNumber": "1Z999"}'),
        ("fedex", b"this is not json"),
        ("aftership", b'{"event": "tracking_update", "msg": {}}'),
        ("shippo", b'{"event": "track_updated", "data": {"carrier": "usps"}}'),
    ],
)
async def test_every_carrier_keeps_dead_letters(portal: Portal, provider: str, body: bytes) -> None:
    answer = await deliver(portal, provider, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_payload"
    row = await kept(portal, answer.json()["error"]["details"]["receipt_id"])
    assert (row.carrier, row.outcome) == (provider, "dead_letter")


async def test_dead_letters_are_listed_by_the_cli_and_in_process(
    portal: Portal, shipped: Shipped, settings: Settings, tmp_path: Path
) -> None:
    dead = await deliver(portal, "generic", misspelt(shipped))
    dead_id = dead.json()["error"]["details"]["receipt_id"]
    applied = await deliver(
        portal,
        "generic",
        generic_body(shipped.tracking_number, "in_transit", portal.clock(), "Fine"),
    )
    assert applied.status_code == 200

    rows = await webhooks_admin.list_receipts(settings, "dead_letter", 50)
    assert [(r["id"], r["carrier"], r["outcome"]) for r in rows] == [
        (dead_id, "generic", "dead_letter")
    ]
    assert "in-transit" in rows[0]["error"]

    code, out, err = await run_cli(
        settings, tmp_path, "webhooks", "list", "--outcome", "dead_letter"
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-1] == "1 receipt(s)"
    assert lines[0].split()[0] == str(dead_id) and "dead_letter" in lines[0]
    code, out, err = await run_cli(settings, tmp_path, "webhooks", "list", "--outcome", "applied")
    assert code == 0 and out.strip().splitlines()[-1] == "1 receipt(s)", err

    # Replaying before the fix leaves it a dead letter, and says so.
    code, out, err = await run_cli(settings, tmp_path, "webhooks", "replay", str(dead_id))
    assert code == 1, err
    assert json.loads(out.strip().splitlines()[-1])["outcome"] == "dead_letter"
    assert (await kept(portal, dead_id)).outcome == "dead_letter"


async def test_a_dead_letter_replayed_after_a_fix_is_applied(
    portal: Portal, shipped: Shipped
) -> None:
    answer = await deliver(portal, "generic", misspelt(shipped))
    receipt_id = answer.json()["error"]["details"]["receipt_id"]
    runtime = portal.runtime
    uow = runtime.new_uow()
    result = await service.replay(runtime.db, uow, receipt_id, FixedGeneric(), portal.clock())
    await runtime.after_commit(uow)
    assert result.outcome == "applied" and result.applied_events == 1

    row = await kept(portal, receipt_id)
    assert row.outcome == "applied" and row.error is None and row.applied_at is not None
    (checkpoint,) = await shipped.checkpoints()
    assert checkpoint["message"] == "Arrived at the hub"
    assert (await shipped.order())["status"] == "in_transit"

    # Replaying it again changes nothing.
    again = await service.replay(
        runtime.db, runtime.new_uow(), receipt_id, FixedGeneric(), portal.clock()
    )
    assert again.outcome == "applied" and again.applied_events == 0
    assert len(await shipped.checkpoints()) == 1


async def test_the_operator_replay_applies_a_dead_letter_once_the_adapter_is_fixed(
    portal: Portal, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = await ship(portal, "dhl")
    answer = await deliver(portal, "generic", misspelt(shipped, "Sorted in Leipzig"))
    receipt_id = answer.json()["error"]["details"]["receipt_id"]

    monkeypatch.setattr(webhooks_admin, "get_adapter", lambda name: FixedGeneric())
    result = await webhooks_admin.replay_receipt(settings, receipt_id)
    assert result["outcome"] == "applied" and result["events"] == 1
    assert [c["message"] for c in await shipped.checkpoints()] == ["Sorted in Leipzig"]
    assert (await kept(portal, receipt_id)).outcome == "applied"
    missing = await webhooks_admin.replay_receipt(settings, receipt_id + 1000)
    assert missing["outcome"] == "not_found"


async def test_a_replayed_dead_letter_for_an_unknown_number_becomes_unmatched_then_applies(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = new_tracking_number("JD")
    body = generic_body(number, "in-transit", portal.clock(), "Picked up")
    answer = await deliver(portal, "generic", body)
    receipt_id = answer.json()["error"]["details"]["receipt_id"]
    # The fix is deployed: the shipments route parses kept bodies with it too.
    fixed = {**registry.ADAPTERS, "generic": FixedGeneric()}
    monkeypatch.setattr(registry, "ADAPTERS", MappingProxyType(fixed))
    runtime = portal.runtime
    result = await service.replay(
        runtime.db, runtime.new_uow(), receipt_id, FixedGeneric(), portal.clock()
    )
    assert result.outcome == "unmatched" and result.unmatched == (number,)

    shipped = await ship(portal, "dhl", number)
    assert [c["message"] for c in await shipped.checkpoints()] == ["Picked up"]
    assert (await kept(portal, receipt_id)).outcome == "applied"


async def test_ups_dead_letter_is_kept_without_its_credential(portal: Portal) -> None:
    body = retarget("ups", "manifest", "1Z999AA10123456784").replace(
        b'"activityStatus"', b'"activityState"'
    )
    answer = await deliver(portal, "ups", body)
    assert answer.status_code == 400
    row = await kept(portal, answer.json()["error"]["details"]["receipt_id"])
    assert "credential" not in json.loads(row.headers)
