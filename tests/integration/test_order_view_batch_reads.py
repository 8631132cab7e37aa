"""Snapshots of many orders read together (a reconnect storm): one set of statements for the
lot, and each order's view exactly the one read alone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlmodel import col

from portal.db import Database
from portal.models import Feedback, Order
from portal.services.views import read_order_view_by_number
from portal.services.views_batch import read_order_views_by_numbers
from portal.web.live import OrderFeed
from tests.integration.conftest import Portal

_VIEW_TABLES = re.compile(
    r"\bFROM (orders|order_items|shipments|shipment_items|order_events|"
    r"delays|feedback|inquiries)\b"
)


def view_statements(db: Database) -> tuple[list[str], Callable[[], None]]:
    """Statements reading an order's view from now on (the app's background loops, which
    run meanwhile and read other tables, are left out), and a stop."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _VIEW_TABLES.search(statement):
            seen.append(statement)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


async def orders_of_every_kind(portal: Portal) -> list[str]:
    """Bare, shipped (twice), delayed, with feedback (written directly: the page offers it only
    once delivered), with an inquiry answered, all of these at once."""
    numbers = [(await portal.create_order())["order_number"] for _ in range(7)]
    _bare, shipped, twice, delayed, rated, asked, everything = numbers
    twice_items = ([{"sku": "MUG-1", "quantity": 2}], [{"sku": "TEA-7", "quantity": 1}])
    shipping = [(shipped, None), *((twice, items) for items in twice_items)]
    shipping += [(delayed, None), (everything, None)]
    for n, (number, items) in enumerate(shipping):
        body = {"carrier": "dhl", "tracking_number": f"JDB{n}{number}", "items": items}
        answer = await portal.post(f"/api/v1/orders/{number}/shipments", body)
        assert answer.status_code == 201, answer.text
    for number in (delayed, everything):
        answer = await portal.post(
            f"/api/v1/orders/{number}/delays", {"reason_code": "weather", "message": "Storm"}
        )
        assert answer.status_code == 201, answer.text
    runtime = portal.runtime
    async with runtime.db.write() as session:
        for number, rating in ((rated, 5), (everything, 2)):
            order_id = (
                await session.execute(
                    select(col(Order.id)).where(col(Order.order_number) == number)
                )
            ).scalar_one()
            now = runtime.clock()
            session.add(Feedback(order_id=order_id, rating=rating, comment="Fine", created_at=now))
    for number in (asked, everything):
        inquiry = await portal.post(
            "/api/v1/inquiries",
            {"order_number": number, "channel": "email", "subject": "Where?", "message": "Hm?"},
        )
        assert inquiry.status_code == 201, inquiry.text
        reply = await portal.post(
            f"/api/v1/inquiries/{inquiry.json()['id']}/messages",
            {"direction": "outbound", "body": "On its way", "staff": "agent@example.com"},
        )
        assert reply.status_code in (200, 201), reply.text
    return numbers


async def test_a_batch_reads_each_view_as_it_is_read_alone(portal: Portal) -> None:
    numbers = await orders_of_every_kind(portal)
    db = portal.runtime.db
    alone = {}
    seen, stop = view_statements(db)
    try:
        for number in numbers:
            async with db.engine.connect() as connection:
                alone[number] = await read_order_view_by_number(connection, number)
        singly = len(seen)
        seen.clear()
        async with db.engine.connect() as connection:
            together = await read_order_views_by_numbers(connection, [*numbers, "NO-SUCH"])
    finally:
        stop()
    assert together == alone  # every part of every view, and no view for an unknown order
    assert all(view is not None for view in alone.values())
    everything = together[numbers[-1]]
    assert everything.delays and everything.feedback and everything.inquiries
    assert len(together[numbers[2]].shipments) == 2
    # The order, its items, shipments, their items, timeline, delays, feedback, inquiries: one
    # statement each for all seven orders, where one at a time took five to eight per order.
    assert len(seen) == 8, seen
    assert singly >= 5 * len(numbers), singly


async def test_snapshots_asked_at_once_share_one_read(portal: Portal) -> None:
    numbers = await orders_of_every_kind(portal)
    runtime = portal.runtime
    feed = OrderFeed(runtime.settings, runtime.db, runtime.renderer)
    seen, stop = view_statements(runtime.db)
    try:
        frames = await asyncio.gather(*(feed.snapshot(number) for number in numbers))
    finally:
        stop()
    assert len(seen) <= 8, seen
    assert feed.views.queries == 1 and feed.views.keys == len(numbers)
    for number, frame in zip(numbers, frames, strict=True):
        assert number in frame.data.decode() and frame.seq >= 1
        # The same bytes a read of its own renders.
        alone = OrderFeed(runtime.settings, runtime.db, runtime.renderer)
        assert (await alone.snapshot(number)) == frame
    assert (await feed.snapshot("NO-SUCH")).data == b""
