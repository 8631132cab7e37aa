"""The order API on SQLite and PostgreSQL: every route's success and error paths."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import Portal, add_api_key, order_body


async def test_create_answers_201_with_link(portal: Portal) -> None:
    body = order_body(order_number="A1001")
    answer = await portal.post("/api/v1/orders", body)
    assert answer.status_code == 201
    data = answer.json()
    assert data["order_number"] == "A1001"
    assert data["status"] == "placed"
    assert data["tracking_url"].startswith(portal.runtime.settings.base_url + "/t/")
    assert [i["sku"] for i in data["items"]] == ["MUG-1", "TEA-7"]
    assert data["events"][0] == {
        **data["events"][0],
        "seq": 1,
        "kind": "status",
        "status": "placed",
    }


async def test_order_number_is_generated_when_absent(portal: Portal) -> None:
    body = order_body()
    del body["order_number"]
    data = (await portal.post("/api/v1/orders", body)).json()
    assert data["order_number"].startswith("ORD-")


async def test_duplicate_order_number_is_409(portal: Portal) -> None:
    await portal.create_order(order_number="DUP-1")
    answer = await portal.post("/api/v1/orders", order_body(order_number="DUP-1"))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"items": []}, ["items"]),
        ({"customer": {"name": "A", "email": "not-an-email"}}, ["customer", "email"]),
        (
            {"customer": {"name": "A", "email": "a@example.com", "phone": "12"}},
            ["customer", "phone"],
        ),
        (
            {"customer": {"name": "A", "email": "a@example.com", "timezone": "Mars/Base"}},
            ["customer", "timezone"],
        ),
        ({"items": [{"sku": "X", "name": "X", "quantity": 0}]}, ["items", "0", "quantity"]),
        ({"order_number": "bad number!"}, ["order_number"]),
        ({"promised_ship_by": "2027-03-05", "promised_deliver_by": "2027-03-01"}, []),
        ({"surprise": 1}, ["surprise"]),
        ({"promised_ship_by": None}, ["promised_ship_by"]),
    ],
)
async def test_invalid_create_is_422_with_field_errors(
    portal: Portal, patch: dict, loc: list[str]
) -> None:
    answer = await portal.post("/api/v1/orders", order_body(**patch))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert any(d["loc"] == loc for d in error["details"]), error["details"]
    listing = await portal.get("/api/v1/orders/" + order_body(**patch).get("order_number", "x"))
    assert listing.status_code in (404, 422)


async def test_bad_json_and_media_type(portal: Portal) -> None:
    answer = await portal.client.post(
        "/api/v1/orders",
        content=b"{nope",
        headers={**portal.auth, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    answer = await portal.client.post(
        "/api/v1/orders", content=b"a=b", headers={**portal.auth, "Content-Type": "text/plain"}
    )
    assert answer.status_code == 415
    big = b'{"x": "' + b"a" * (300 * 1024) + b'"}'
    answer = await portal.client.post(
        "/api/v1/orders", content=big, headers={**portal.auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413


async def test_auth_is_required(portal: Portal) -> None:
    assert (await portal.client.post("/api/v1/orders", json=order_body())).status_code == 401
    wrong = {"Authorization": "Bearer pk_wrong"}
    answer = await portal.client.post("/api/v1/orders", json=order_body(), headers=wrong)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert (await portal.client.get("/api/v1/orders/X", headers=wrong)).status_code == 401


async def test_read_only_key_cannot_write(portal: Portal) -> None:
    key = await add_api_key(portal.runtime.settings.database_url, scopes="orders:read")
    headers = {"Authorization": f"Bearer {key}"}
    answer = await portal.client.post("/api/v1/orders", json=order_body(), headers=headers)
    assert answer.status_code == 403
    order = await portal.create_order()
    assert (
        await portal.client.get(f"/api/v1/orders/{order['order_number']}", headers=headers)
    ).status_code == 200


async def test_get_order_and_404(portal: Portal) -> None:
    order = await portal.create_order()
    data = (await portal.get(f"/api/v1/orders/{order['order_number']}")).json()
    assert data["status"] == "placed" and data["shipments"] == [] and data["delays"] == []
    assert "tracking_url" not in data  # tokens are shown once, at creation
    missing = await portal.get("/api/v1/orders/NOPE-1")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_status_route(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    path = f"/api/v1/orders/{number}/status"
    answer = await portal.post(path, {"status": "processing", "note": "picking now"})
    assert answer.status_code == 200 and answer.json()["status"] == "processing"
    same = await portal.post(path, {"status": "processing"})
    assert same.status_code == 200 and same.json()["changed"] is False
    assert (await portal.post(path, {"status": "packed"})).json()["status"] == "packed"
    back = await portal.post(path, {"status": "processing"})
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    assert (await portal.post(path, {"status": "delivered"})).status_code == 422
    assert (
        await portal.post("/api/v1/orders/NOPE/status", {"status": "packed"})
    ).status_code == 404
    events = (await portal.get(f"/api/v1/orders/{number}")).json()["events"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["status"] for e in events] == ["placed", "processing", "packed"]


async def test_cancel_only_before_shipping(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    await portal.post(
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "ups", "tracking_number": "1Z999AA10123456784"},
    )
    answer = await portal.post(f"/api/v1/orders/{number}/status", {"status": "cancelled"})
    assert answer.status_code == 409
    other = (await portal.create_order())["order_number"]
    assert (await portal.post(f"/api/v1/orders/{other}/status", {"status": "cancelled"})).json()[
        "status"
    ] == "cancelled"
    ship = await portal.post(
        f"/api/v1/orders/{other}/shipments", {"carrier": "ups", "tracking_number": "1ZCANCELLED01"}
    )
    assert ship.status_code == 409


async def test_shipments_route(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    path = f"/api/v1/orders/{number}/shipments"
    eta = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    first = await portal.post(
        path,
        {
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "items": [{"sku": "MUG-1", "quantity": 1}],
            "estimated_delivery": eta,
        },
    )
    assert first.status_code == 201, first.text
    shipment = first.json()
    assert shipment["carrier"] == "ups" and shipment["status"] == "pre_transit"
    assert "1Z999AA10123456784" in shipment["tracking_url"]
    assert shipment["estimated_delivery"] == eta
    assert shipment["order_status"] == "shipped"
    too_many = await portal.post(
        path,
        {"carrier": "dhl", "tracking_number": "JD0001", "items": [{"sku": "MUG-1", "quantity": 2}]},
    )
    assert too_many.status_code == 422
    unknown = await portal.post(
        path,
        {"carrier": "dhl", "tracking_number": "JD0002", "items": [{"sku": "NOPE", "quantity": 1}]},
    )
    assert unknown.status_code == 422
    again = await portal.post(path, {"carrier": "ups", "tracking_number": "1Z999AA10123456784"})
    assert again.status_code == 409
    rest = await portal.post(path, {"carrier": "dhl", "tracking_number": "JD0003"})
    assert rest.status_code == 201
    assert sorted((i["sku"], i["quantity"]) for i in rest.json()["items"]) == [
        ("MUG-1", 1),
        ("TEA-7", 1),
    ]
    nothing_left = await portal.post(path, {"carrier": "dhl", "tracking_number": "JD0004"})
    assert nothing_left.status_code == 409
    order = (await portal.get(f"/api/v1/orders/{number}")).json()
    assert len(order["shipments"]) == 2
    assert order["estimated_delivery"] == eta
    seqs = [e["seq"] for e in order["events"]]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_delays_route(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    new_eta = (datetime.now(UTC).date() + timedelta(days=9)).isoformat()
    answer = await portal.post(
        f"/api/v1/orders/{number}/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "new_estimated_delivery": new_eta,
            "compensation": "10% refund of shipping",
            "alternatives": ["pickup_point", "cancel"],
        },
    )
    assert answer.status_code == 201, answer.text
    delay = answer.json()
    assert delay["state"] == "open" and delay["reason_code"] == "weather"
    assert delay["alternatives"] == ["pickup_point", "cancel"]
    order = (await portal.get(f"/api/v1/orders/{number}")).json()
    assert order["estimated_delivery"] == new_eta
    assert order["delays"][0]["new_estimated_delivery"] == new_eta
    assert any(e["kind"] == "delay" for e in order["events"])
    bad = await portal.post(
        f"/api/v1/orders/{number}/delays", {"reason_code": "aliens", "message": "x"}
    )
    assert bad.status_code == 422
    bad = await portal.post(
        f"/api/v1/orders/{number}/delays",
        {"reason_code": "weather", "message": "x", "alternatives": ["teleport"]},
    )
    assert bad.status_code == 422


async def test_links_route(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    answer = await portal.post(f"/api/v1/orders/{number}/links", {"expires_in_days": 7})
    assert answer.status_code == 201
    data = answer.json()
    assert data["url"].startswith(portal.runtime.settings.base_url + "/t/")
    expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < expires - portal.clock() <= timedelta(days=7)
    default = await portal.client.post(f"/api/v1/orders/{number}/links", headers=portal.auth)
    assert default.status_code == 201
    page = await portal.client.get(data["url"].replace(portal.runtime.settings.base_url, ""))
    assert page.status_code == 200
    assert (
        await portal.post(f"/api/v1/orders/{number}/links", {"expires_in_days": 0})
    ).status_code == 422
    assert (await portal.post("/api/v1/orders/NOPE/links", {})).status_code == 404


async def test_idempotent_retry_returns_the_first_answer(portal: Portal) -> None:
    body = order_body()
    first = await portal.post("/api/v1/orders", body, **{"Idempotency-Key": "k-1"})
    again = await portal.post("/api/v1/orders", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await portal.post("/api/v1/orders", order_body(), **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409


async def test_twenty_concurrent_identical_creates_make_one_order(portal: Portal) -> None:
    body = order_body()
    del body["order_number"]  # generated: only the idempotency key can keep them to one order
    answers = await asyncio.gather(
        *(portal.post("/api/v1/orders", body, **{"Idempotency-Key": "burst-1"}) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {201}
    numbers = {a.json()["order_number"] for a in answers}
    assert len(numbers) == 1
    assert len({a.json()["tracking_url"] for a in answers}) == 1
    from sqlalchemy import func, select

    from portal.models import Order

    async with portal.runtime.db.read() as session:
        count = (await session.execute(select(func.count()).select_from(Order))).scalar()
    assert count == 1


async def test_idempotent_status_change(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    path = f"/api/v1/orders/{number}/status"
    one = await portal.post(path, {"status": "packed"}, **{"Idempotency-Key": "s-1"})
    two = await portal.post(path, {"status": "packed"}, **{"Idempotency-Key": "s-1"})
    assert one.json() == two.json() and two.headers["Idempotent-Replayed"] == "true"
    assert len((await portal.get(f"/api/v1/orders/{number}")).json()["events"]) == 2


async def test_openapi_matches_the_routes(portal: Portal) -> None:
    doc = (await portal.client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    for path, method in [
        ("/api/v1/orders", "post"),
        ("/api/v1/orders/{order_number}", "get"),
        ("/api/v1/orders/{order_number}/status", "post"),
        ("/api/v1/orders/{order_number}/shipments", "post"),
        ("/api/v1/orders/{order_number}/delays", "post"),
        ("/api/v1/orders/{order_number}/links", "post"),
        ("/api/v1/orders/{order_number}/notifications", "get"),
    ]:
        assert method in paths[path]
    schemas = doc["components"]["schemas"]
    assert set(schemas["OrderCreate"]["required"]) == {
        "customer",
        "items",
        "promised_ship_by",
        "promised_deliver_by",
    }
    assert (
        schemas["StatusChange"]["properties"]["status"]["pattern"]
        == "^(processing|packed|cancelled)$"
    )
    assert schemas["OrderCreate"]["additionalProperties"] is False


async def test_concurrent_creates_of_one_order_number(portal: Portal) -> None:
    body = order_body()
    answers = await asyncio.gather(*(portal.post("/api/v1/orders", body) for _ in range(8)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 7, [a.text for a in answers if a.status_code not in (201, 409)]
