"""The archive finds an order's webhook receipts through ``receipt_tracking`` (both databases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from carriers.registry import get_adapter
from portal.db import Database, alembic_config
from portal.domain.receipt_numbers import MAX_MENTIONED, UNINDEXED
from portal.models import ReceiptTracking, WebhookReceipt, table_of
from tests.integration.conftest import WEBHOOK_SECRET, Portal
from tests.integration.webhook_helpers import new_msg_id

LINKS, RECEIPTS = table_of(ReceiptTracking), table_of(WebhookReceipt)


async def _post(portal: Portal, payload: Any) -> int:
    adapter = get_adapter("generic")
    assert adapter is not None
    body = json.dumps(payload).encode()
    headers, query = adapter.sign(body, WEBHOOK_SECRET, portal.clock())
    answer = await portal.client.post(
        "/webhooks/generic",
        content=body,
        params=query,
        headers={**headers, "Content-Type": "application/json"},
    )
    return answer.status_code


def _event(portal: Portal, number: str) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "carrier": "dhl",
        "status": "in_transit",
        "occurred_at": portal.clock().isoformat().replace("+00:00", "Z"),
        "message": "Departed hub",
    }


async def _order_with(portal: Portal, tracking_number: str) -> str:
    number: str = (await portal.create_order())["order_number"]
    shipped = await portal.post(
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "dhl", "tracking_number": tracking_number},
    )
    assert shipped.status_code == 201, shipped.text
    return number


async def _archived_receipts(portal: Portal, number: str) -> list[dict[str, Any]]:
    answer = await portal.get(f"/api/v1/orders/{number}/archive")
    assert answer.status_code == 200, answer.text
    receipts: list[dict[str, Any]] = answer.json()["webhook_receipts"]
    return receipts


async def _links(portal: Portal) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    async with portal.runtime.db.read() as session:
        for receipt_id, number in (await session.execute(sa.select(LINKS))).all():
            out.setdefault(receipt_id, set()).add(number)
    return out


async def test_a_batch_naming_more_numbers_than_the_column_holds_is_archived(
    portal: Portal,
) -> None:
    # 80 numbers of 16 characters: the ',A,B,' column keeps its first 1000 characters, and
    # this order's number sorts last, past the cut. The link table holds every number.
    mine = "ZZ00000000000001"
    number = await _order_with(portal, mine)
    others = [f"AA{n:014d}" for n in range(79)]
    events = [_event(portal, n) for n in [*others, mine]]
    assert await _post(portal, {"events": events}) == 202  # some numbers are unknown
    [receipt] = await _archived_receipts(portal, number)
    assert json.loads(receipt["raw_body"])["events"][-1]["tracking_number"] == mine
    assert mine not in receipt["tracking_numbers"]  # the column was cut before it
    assert mine in (await _links(portal))[receipt["id"]]


async def test_dead_letters_are_linked_by_the_numbers_their_body_mentions(
    portal: Portal,
) -> None:
    mine, other = "JD014600003828", "JD014600009999"
    number = await _order_with(portal, mine)
    # Unparseable (no status): dead letters. One short, one too wordy to index word by word,
    # one about another parcel.
    assert await _post(portal, {"tracking_number": mine, "message": "lost"}) == 400
    words = " ".join(f"w{n:04d}" for n in range(MAX_MENTIONED + 1))
    assert await _post(portal, {"tracking_number": mine, "message": words}) == 400
    assert await _post(portal, {"tracking_number": other, "message": "lost"}) == 400
    links = await _links(portal)
    receipts = await _archived_receipts(portal, number)
    assert [r["outcome"] for r in receipts] == ["dead_letter", "dead_letter"]
    short, wordy = (r["id"] for r in receipts)
    assert mine in links[short] and "lost" in links[short]
    assert links[wordy] == {UNINDEXED}  # found by the bounded fallback: its body is read
    assert all(json.loads(r["raw_body"])["tracking_number"] == mine for r in receipts)


async def test_a_replayed_dead_letter_is_linked_by_what_it_names(portal: Portal) -> None:
    mine = "JD014600004444"
    await _order_with(portal, mine)
    assert await _post(portal, {"tracking_number": mine, "message": "lost"}) == 400
    [(receipt_id, before)] = (await _links(portal)).items()
    assert "lost" in before
    # The same body, replayed by a fixed adapter that reads it as a checkpoint.
    async with portal.runtime.db.write() as session:
        receipt = await session.get(WebhookReceipt, receipt_id)
        assert receipt is not None
        receipt.body = json.dumps(_event(portal, mine))
        receipt.headers = json.dumps({"webhook-id": new_msg_id()})
        session.add(receipt)
    from portal.services.webhooks import replay

    adapter = get_adapter("generic")
    assert adapter is not None
    runtime = portal.runtime
    result = await replay(runtime.db, runtime.new_uow(), receipt_id, adapter, portal.clock())
    assert result.outcome == "applied"
    assert (await _links(portal))[receipt_id] == {mine}


def _upgrade_to(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def test_the_migration_links_receipts_stored_before_it(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    now = datetime.now(UTC)
    base = {"carrier": "generic", "headers": "{}", "received_at": now}
    try:
        async with db.write_engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0009")
            await conn.execute(
                RECEIPTS.insert(),
                [
                    {**base, "id": 1, "dedupe_key": "a", "outcome": "applied",
                     "body": "{}", "tracking_numbers": ",JD0001,JD0002,"},
                    {**base, "id": 2, "dedupe_key": "b", "outcome": "dead_letter",
                     "body": '{"tracking_number": "JD0003"}', "tracking_numbers": ""},
                    {**base, "id": 3, "dedupe_key": "c", "outcome": "duplicate",
                     "body": '{"tracking_number": "JD0004"}', "tracking_numbers": ""},
                ],
            )  # fmt: skip
        await db.migrate()
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.select(LINKS))).all()
        assert sorted((r.receipt_id, r.tracking_number) for r in rows) == [
            (1, "JD0001"),
            (1, "JD0002"),
            (2, "JD0003"),
            (2, "number"),
            (2, "tracking"),
        ]
    finally:
        await db.dispose()


async def test_a_number_past_the_column_cut_is_applied_once_its_shipment_is_registered(
    portal: Portal,
) -> None:
    mine = "ZZ00000000000002"
    others = [f"AB{n:014d}" for n in range(79)]
    events = [_event(portal, n) for n in [*others, mine]]
    assert await _post(portal, {"events": events}) == 202  # no shipment has any of them yet
    number = await _order_with(portal, mine)
    order = (await portal.get(f"/api/v1/orders/{number}")).json()
    assert order["status"] == "in_transit"  # the kept update was applied
