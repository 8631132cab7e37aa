"""The CRM log recorder keeps the order's state at the moment, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from portal.domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from portal.services.interactions import (
    InteractionEntry,
    interaction_json,
    interactions_of,
    record_interaction,
)
from portal.services.timeline import lock_order
from tests.integration.conftest import Portal, order_body


async def test_an_entry_keeps_the_order_state_of_its_moment(portal: Portal) -> None:
    body = order_body()
    answer = await portal.post("/api/v1/orders", body)
    assert answer.status_code == 201
    number = body["order_number"]
    db = portal.runtime.db
    now = portal.clock()
    async with db.write() as session:
        order = await lock_order(session, number)
        record_interaction(
            session,
            order,
            InteractionEntry(
                channel=InteractionChannel.PHONE,
                direction=Direction.INBOUND,
                outcome=InteractionOutcome.ANSWERED,
                summary="Asked when it ships",
                staff="agent@example.com",
                duration_s=95,
            ),
            now=now,
        )
        record_interaction(
            session,
            order,
            InteractionEntry(
                channel=InteractionChannel.WEB,
                direction=Direction.OUTBOUND,
                outcome=InteractionOutcome.RESOLVED,
                summary="Shared a new link",
                staff="agent@example.com",
                action=InteractionAction.LINK_CREATED,
                occurred_at=now + timedelta(minutes=1),
            ),
            now=now,
        )
    answer = await portal.post(f"/api/v1/orders/{number}/status", {"status": "packed"})
    assert answer.status_code == 200
    async with db.read() as session:
        order = await lock_order(session, number)
        assert order.id is not None
        rows = await interactions_of(session, order.id)
    first, second = (interaction_json(row, number) for row in rows)
    assert first["action"] == "link_created" and first["channel"] == "web"
    assert second["summary"] == "Asked when it ships" and second["duration_s"] == 95
    # The state then, not now: the order was placed when both were logged.
    assert {first["order_status"], second["order_status"]} == {"placed"}
    assert {first["order_eta"], second["order_eta"]} == {body["promised_deliver_by"]}
