"""What the API's writes ask the database for, statement by statement (issue 16 item 3).

Each statement costs more Python around it than the indexed work it does, so the counts are
pinned: a change that adds one to a status change or an order's creation fails here first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from tests.integration.conftest import Portal, order_body

WORDS = {"SELECT", "INSERT", "UPDATE", "DELETE", "NOTIFY"}


def statements(portal: Portal) -> tuple[list[str], Callable[[], None]]:
    """The first word of every statement the portal runs from now on (transaction control
    aside), and a stop."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        word = statement.split(None, 1)[0].upper()
        if word in WORDS:
            seen.append(word)

    db = portal.runtime.db
    engines = {id(e): e.sync_engine for e in (db.engine, db.write_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)

    def stop() -> None:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)

    return seen, stop


async def counted(portal: Portal, path: str, body: Any, **headers: str) -> tuple[Any, list[str]]:
    seen, stop = statements(portal)
    try:
        answer = await portal.post(path, body, **headers)
    finally:
        stop()
    assert answer.status_code in (200, 201), answer.text
    return answer.json(), seen


def notify(portal: Portal) -> list[str]:
    """PostgreSQL wakes the dispatchers with NOTIFY in the transaction; SQLite has no such."""
    return ["NOTIFY"] if portal.runtime.db.engine.dialect.name == "postgresql" else []


def status_change(portal: Portal) -> list[str]:
    """A status change that queues one notice, for an order without shipments, delays,
    feedback or inquiries."""
    # The API key; the lock, which brings the items, which parts the order has and the
    # template mark; update, event; taken notice keys, share link, the notice, NOTIFY; the
    # answer's timeline. (Before: 17 on PostgreSQL, with the shipments, items and template
    # mark read for the notice and six reads for the answer.)
    return [
        "SELECT",
        "SELECT",
        "UPDATE",
        "INSERT",
        "SELECT",
        "INSERT",
        "INSERT",
        *notify(portal),
        "SELECT",
    ]


async def test_a_status_change_that_notifies(portal: Portal) -> None:
    await portal.create_order(order_number="S-1")
    answer, seen = await counted(portal, "/api/v1/orders/S-1/status", {"status": "packed"})
    assert answer["status"] == "packed" and answer["changed"] is True
    assert [e["status"] for e in answer["events"]] == ["placed", "packed"]
    assert seen == status_change(portal), seen


async def test_a_status_change_that_changes_nothing(portal: Portal) -> None:
    await portal.create_order(order_number="S-2")
    await portal.post("/api/v1/orders/S-2/status", {"status": "packed"})
    answer, seen = await counted(portal, "/api/v1/orders/S-2/status", {"status": "packed"})
    assert answer["changed"] is False
    assert seen == ["SELECT", "SELECT", "SELECT"], seen  # key, lock, timeline (before: 8)


async def test_a_status_change_with_an_idempotency_key(portal: Portal) -> None:
    await portal.create_order(order_number="S-3")
    path, body = "/api/v1/orders/S-3/status", {"status": "packed"}
    first, seen = await counted(portal, path, body, **{"Idempotency-Key": "k-1"})
    # The key's record is looked up and inserted before the work, its answer stored after.
    key, *work = status_change(portal)
    assert seen == [key, "SELECT", "INSERT", *work, "UPDATE"], seen
    again, seen = await counted(portal, path, body, **{"Idempotency-Key": "k-1"})
    assert again == first and seen == ["SELECT", "SELECT"], seen


async def test_creating_an_order(portal: Portal) -> None:
    await portal.create_order()  # the API key's last use is recorded once a minute
    answer, seen = await counted(portal, "/api/v1/orders", order_body(order_number="C-1"))
    assert answer["status"] == "placed" and answer["tracking_url"]
    # The API key; the number taken and the template mark; the order, its items (one
    # executemany), share link, event, the notices (one executemany), NOTIFY; the answer is
    # what was written. (Before: 19 on PostgreSQL, 22 on SQLite: the number alone, one insert
    # per item and notice on SQLite, an UPDATE of the first seq, taken notice keys, shipments,
    # items, template mark and six reads for the answer.)
    assert seen == ["SELECT", "SELECT", *["INSERT"] * 5, *notify(portal)], seen
    read = (await portal.get("/api/v1/orders/C-1")).json()
    assert answer.pop("tracking_url").startswith(portal.runtime.settings.base_url + "/t/")
    assert answer == read
    notices = (await portal.get("/api/v1/orders/C-1/notifications")).json()["notifications"]
    assert [(n["channel"], n["state"], n["event_seq"]) for n in notices] == [
        ("email", "pending", 1),
        ("sms", "pending", 1),
    ]
    assert all(n["body"] and n["template_version"] for n in notices)


async def test_the_answer_is_the_order_as_read_afresh(portal: Portal) -> None:
    # The answer is built from what the lock read; it must be the order as GET reads it, for an
    # order with the parts the lock said it had (a delay) and one that changed (cancelled).
    await portal.create_order(order_number="S-5")
    delay = {"reason_code": "weather", "message": "Snow closed the depot"}
    assert (await portal.post("/api/v1/orders/S-5/delays", delay)).status_code == 201
    for status in ("processing", "cancelled"):
        answer, seen = await counted(portal, "/api/v1/orders/S-5/status", {"status": status})
        assert answer.pop("changed") is True
        assert answer == (await portal.get("/api/v1/orders/S-5")).json()
        assert "SELECT" in seen[seen.index("INSERT") :]
    assert answer["delays"][0]["state"] == "resolved" and answer["status"] == "cancelled"
