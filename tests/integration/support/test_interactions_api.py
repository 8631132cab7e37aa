"""The CRM log over the API: list and log interactions, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Portal
from tests.integration.staff_helpers import create_staff_user

CALL = {
    "channel": "phone",
    "direction": "inbound",
    "outcome": "answered",
    "summary": "Customer asked where the parcel is",
    "duration_s": 180,
}


async def test_log_and_list_interactions(portal: Portal) -> None:
    order = await portal.create_order()
    number = order["order_number"]
    user = await create_staff_user(portal, "agent.smith@shop.example")
    first = await portal.post(f"/api/v1/orders/{number}/interactions", CALL)
    assert first.status_code == 201, first.text
    entry = first.json()
    assert entry["staff"] == "api:tests" and entry["order_status"] == "placed"
    assert entry["channel"] == "phone" and entry["duration_s"] == 180
    portal.clock.advance(minutes=5)
    by_staff: dict[str, Any] = {
        **CALL,
        "channel": "email",
        "direction": "outbound",
        "outcome": "resolved",
        "summary": "Sent the new ETA",
        "staff": "Agent.Smith@shop.example",
    }
    second = await portal.post(f"/api/v1/orders/{number}/interactions", by_staff)
    assert second.status_code == 201, second.text
    assert second.json()["staff"] == user.email
    listing = await portal.get(f"/api/v1/orders/{number}/interactions")
    assert listing.status_code == 200
    items = listing.json()["interactions"]
    assert [i["summary"] for i in items] == ["Sent the new ETA", CALL["summary"]]
    assert set(items[0]) >= {
        "channel",
        "direction",
        "outcome",
        "summary",
        "duration_s",
        "staff",
        "inquiry_id",
        "occurred_at",
    }


async def test_interaction_input_is_checked(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    path = f"/api/v1/orders/{number}/interactions"
    for bad in (
        {**CALL, "channel": "pigeon"},
        {**CALL, "outcome": "maybe"},
        {**CALL, "summary": ""},
        {**CALL, "duration_s": -1},
        {**CALL, "staff": "nobody@shop.example"},
        {**CALL, "occurred_at": "2999-01-01T00:00:00Z"},
        {**CALL, "extra": 1},
    ):
        answer = await portal.post(path, bad)
        assert answer.status_code == 422, (bad, answer.text)
    assert (await portal.get(path)).json()["interactions"] == []
    assert (await portal.post("/api/v1/orders/NOPE-1/interactions", CALL)).status_code == 404
    assert (await portal.client.post(path, json=CALL)).status_code == 401


async def test_interaction_post_is_idempotent(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    path = f"/api/v1/orders/{number}/interactions"
    first = await portal.post(path, CALL, **{"Idempotency-Key": "crm-1"})
    again = await portal.post(path, CALL, **{"Idempotency-Key": "crm-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await portal.post(path, {**CALL, "summary": "x"}, **{"Idempotency-Key": "crm-1"})
    assert other.status_code == 409
    assert len((await portal.get(path)).json()["interactions"]) == 1


async def test_crm_routes_are_in_the_openapi_document(portal: Portal) -> None:
    doc = (await portal.client.get("/api/v1/openapi.json")).json()
    assert "get" in doc["paths"]["/api/v1/orders"] and "post" in doc["paths"]["/api/v1/orders"]
    ops = doc["paths"]["/api/v1/orders/{order_number}/interactions"]
    assert {"get", "post"} <= set(ops)
    schema = doc["components"]["schemas"]["InteractionCreate"]
    assert {"channel", "direction", "outcome", "summary"} <= set(schema["required"])
