"""Order search over the API and in the console, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.conftest import Portal
from tests.integration.staff_helpers import StaffClient


def _customer(name: str, email: str, phone: str | None) -> dict[str, Any]:
    return {"name": name, "email": email, "phone": phone, "timezone": "Europe/London"}


async def _order(portal: Portal, number: str, name: str, email: str, phone: str | None) -> None:
    await portal.create_order(order_number=number, customer=_customer(name, email, phone))


async def _found(portal: Portal, q: str, **params: str) -> list[str]:
    answer = await portal.client.get(
        "/api/v1/orders", params={"q": q, **params}, headers=portal.auth
    )
    assert answer.status_code == 200, answer.text
    return [o["order_number"] for o in answer.json()["orders"]]


@pytest.fixture
async def orders(portal: Portal) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6].upper()
    numbers = {k: f"{k}{tag}" for k in ("ADA", "GRACE", "COTTON", "COTTONX", "SNAKE")}
    await _order(portal, numbers["ADA"], "Ada Lovelace", "Ada@Example.com", "+14155552671")
    await _order(portal, numbers["GRACE"], "Grace Hopper", "grace@navy.example", "+442079460123")
    await _order(portal, numbers["COTTON"], "100% Cotton Ltd", "buyer@cotton.example", None)
    await _order(portal, numbers["COTTONX"], "100X Cotton Ltd", "buyer@cottonx.example", None)
    await _order(portal, numbers["SNAKE"], "snake_case shop", "snake@py.example", None)
    answer = await portal.post(
        f"/api/v1/orders/{numbers['GRACE']}/shipments",
        {"carrier": "ups", "tracking_number": "1Z999AA10123456784"},
    )
    assert answer.status_code == 201, answer.text
    return numbers


async def test_search_by_each_field(portal: Portal, orders: dict[str, str]) -> None:
    ada, grace = orders["ADA"], orders["GRACE"]
    assert await _found(portal, ada.lower()) == [ada]  # order number, any case
    assert await _found(portal, ada[1:-1]) == [ada]  # a part of it
    assert await _found(portal, "ada@example.COM") == [ada]  # email, any case
    assert await _found(portal, "navy.exa") == [grace]  # part of an email
    assert await _found(portal, "+14155552671") == [ada]  # phone, E.164
    assert await _found(portal, "(415) 555-2671") == [ada]  # phone as typed
    assert await _found(portal, "020 7946 0123") == []  # national 0 is not in E.164
    assert await _found(portal, "7946 0123") == [grace]
    assert await _found(portal, "1z999aa10123456784") == [grace]  # tracking number
    assert await _found(portal, "1Z999 AA101") == [grace]  # typed with a space
    assert await _found(portal, "lovelace") == [ada]  # customer name
    assert await _found(portal, "grace hop") == [grace]


async def test_wildcards_are_literal(portal: Portal, orders: dict[str, str]) -> None:
    assert await _found(portal, "100%") == [orders["COTTON"]]
    assert await _found(portal, "0% c") == [orders["COTTON"]]
    assert await _found(portal, "e_c") == [orders["SNAKE"]]
    assert await _found(portal, "%") == [orders["COTTON"]]  # short: matched by a scan
    assert await _found(portal, "_") == [orders["SNAKE"]]
    assert await _found(portal, "xyz-nothing") == []


async def test_a_new_tracking_number_is_searchable_at_once(
    portal: Portal, orders: dict[str, str]
) -> None:
    ada = orders["ADA"]
    assert await _found(portal, "JD0146000") == []
    await portal.post(
        f"/api/v1/orders/{ada}/shipments", {"carrier": "dhl", "tracking_number": "JD014600003828"}
    )
    assert await _found(portal, "JD0146000") == [ada]
    answer = await portal.client.get("/api/v1/orders", params={"q": ada}, headers=portal.auth)
    hit = answer.json()["orders"][0]
    assert hit["tracking_numbers"] == ["JD014600003828"]
    assert hit["customer"] == {
        "name": "Ada Lovelace",
        "email": "Ada@example.com",
        "phone": "+14155552671",
    }
    assert hit["status"] == "shipped"


async def test_cursor_pagination_newest_first(portal: Portal) -> None:
    domain = f"page{uuid.uuid4().hex[:6]}.example"
    made = []
    for index in range(5):
        number = f"P{index}{uuid.uuid4().hex[:6].upper()}"
        await _order(portal, number, f"Customer {index}", f"c{index}@{domain}", None)
        made.append(number)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": domain, "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = await portal.client.get("/api/v1/orders", params=params, headers=portal.auth)
        body = answer.json()
        seen += [o["order_number"] for o in body["orders"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made)) and pages == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "ada", "limit": "0"},
        {"q": "ada", "limit": "x"},
        {"q": "ada", "cursor": "!!"},
        {"q": "ada", "cursor": "eDE"},
    ],
)
async def test_bad_search_requests_are_422(portal: Portal, params: dict[str, str]) -> None:
    answer = await portal.client.get("/api/v1/orders", params=params, headers=portal.auth)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"


async def test_search_needs_an_api_key(portal: Portal) -> None:
    assert (await portal.client.get("/api/v1/orders?q=ada")).status_code == 401


async def test_console_search_links_to_the_order_screen(
    agent: StaffClient, orders: dict[str, str]
) -> None:
    page = await agent.get("/support/orders", params={"q": "1Z999AA1"})
    assert page.status_code == 200
    assert f'href="/support/orders/{orders["GRACE"]}"' in page.text
    assert "Grace Hopper" in page.text and orders["ADA"] not in page.text
    empty = await agent.get("/support/orders", params={"q": "no such thing"})
    assert "No order matches" in empty.text
    form = await agent.get("/support/orders")
    assert form.status_code == 200 and 'name="q"' in form.text


async def test_console_search_pages_with_more_results(portal: Portal, agent: StaffClient) -> None:
    domain = f"more{uuid.uuid4().hex[:6]}.example"
    for index in range(3):
        await _order(
            portal, f"M{index}{uuid.uuid4().hex[:6].upper()}", "M", f"m{index}@{domain}", None
        )
    first = await agent.get("/support/orders", params={"q": domain, "limit": "2"})
    assert "More results" in first.text


async def test_postgres_search_uses_the_trigram_index(portal: Portal) -> None:
    """The search statement can run on the GIN index (PostgreSQL; SQLite's FTS5 always does)."""
    runtime = portal.runtime
    if not runtime.db.is_postgres:
        pytest.skip("PostgreSQL only")
    from sqlalchemy import text

    from portal.domain.search import parse_query
    from portal.services.search import _id_query

    query = parse_query("lovelace")
    assert query is not None
    stmt = _id_query(query, "postgresql", None, 20)
    async with runtime.db.read() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in await session.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_order_search_body_trgm" in plan, plan
