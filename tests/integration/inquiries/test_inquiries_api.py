"""Inquiries through the API on SQLite and PostgreSQL: due times, replies sent through the
outbox to a real SMTP server, pauses, priority from the order, the queue, errors."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlmodel import col

from portal.db import Database
from portal.metrics import Metrics
from portal.models import OrderEvent
from portal.models_crm import Interaction
from portal.services.inquiry_watch import BreachWatcher, InquiryBell
from tests.integration.inquiries.conftest import INBOUND, Desk, iso


async def test_a_question_opens_an_inquiry_with_its_due_times(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], subject="Parcel", message="Where is it?")
    assert opened["order_number"] == order["order_number"]
    assert (opened["state"], opened["priority"], opened["channel"]) == ("open", "normal", "web")
    targets = opened["targets"]
    assert targets["first_response"] == {"due_at": iso(desk.later(240)), "state": "pending"}
    assert targets["resolution"] == {"due_at": iso(desk.later(2880)), "state": "pending"}
    assert targets["next_response"] == {"due_at": None, "state": "pending"}
    assert [m["body"] for m in opened["messages"]] == ["Where is it?"]
    kinds = {(e["kind"], e["target"]) for e in opened["sla_events"]}
    assert {("start", "first_response"), ("start", "resolution"), ("priority", None)} <= kinds
    async with desk.portal.runtime.db.read() as session:
        logged = (
            await session.execute(
                select(Interaction).where(col(Interaction.inquiry_id) == opened["id"])
            )
        ).scalars()
        assert [(i.channel, i.direction, i.action) for i in logged] == [
            ("web", "inbound", "inquiry_message")
        ]
        kinds_on_timeline = (
            await session.execute(select(col(OrderEvent.kind)).order_by(col(OrderEvent.seq)))
        ).scalars()
        assert "inquiry" in list(kinds_on_timeline)
    listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
    assert [i["id"] for i in listed] == [opened["id"]]
    assert "messages" not in listed[0]


async def test_a_reply_is_emailed_with_a_reply_to_tag_and_met_when_sent(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    desk.clock.advance(minutes=30)
    replied = await desk.reply(opened["id"], "It is at the depot.\nNone of it is lost.")
    # Typed is not sent: the first response is still running.
    assert replied["targets"]["first_response"]["state"] == "pending"
    assert replied["messages"][-1]["sent_at"] is None
    desk.clock.advance(minutes=5)
    await desk.drain()
    mails = desk.smtp.with_subject("an answer about your order")
    assert len(mails) == 1
    mail = mails[0]
    assert "None of it is lost." in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    reply_to = str(mail["Reply-To"])
    local, domain = INBOUND.split("@")
    assert reply_to.startswith(f"{local}+m") and reply_to.endswith(f"@{domain}")
    after = await desk.inquiry(opened["id"])
    assert after["targets"]["first_response"]["state"] == "met"
    assert after["messages"][-1]["sent_at"] == iso(desk.clock())
    met = await desk.events(opened["id"], "met")
    assert [(e.target, e.at) for e in met] == [("first_response", desk.clock())]
    # The notification is in the order's log with its exact content.
    notices = (
        await desk.portal.get(f"/api/v1/orders/{order['order_number']}/notifications")
    ).json()
    reply = [n for n in notices["notifications"] if n["kind"] == "inquiry_reply"]
    assert [n["state"] for n in reply] == ["sent"]
    assert "None of it is lost." in reply[0]["body"]


async def test_waiting_pauses_a_customer_message_resumes_resolving_stops(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    path = f"/api/v1/inquiries/{opened['id']}"
    desk.clock.advance(minutes=60)
    waiting = await desk.post(path + "/state", {"state": "waiting_on_customer"})
    assert waiting["targets"]["resolution"] == {"due_at": None, "state": "paused"}
    assert waiting["targets"]["first_response"]["state"] == "pending"  # never paused
    desk.clock.advance(minutes=600)
    resumed = await desk.post(path + "/messages", {"direction": "inbound", "body": "Any news?"})
    assert resumed["state"] == "open"
    # 60 minutes used before the pause: 2820 left from now.
    assert resumed["targets"]["resolution"] == {"due_at": iso(desk.later(2820)), "state": "pending"}
    desk.clock.advance(minutes=10)
    resolved = await desk.post(path + "/state", {"state": "resolved"})
    assert resolved["targets"]["resolution"]["state"] == "met"
    assert resolved["resolved_at"] == iso(desk.clock())
    kinds = [e["kind"] for e in resolved["sla_events"] if e["target"] == "resolution"]
    assert kinds == ["start", "pause", "resume", "met"]
    same = await desk.post(path + "/state", {"state": "resolved"})
    assert same["changed"] is False


async def test_a_phone_answer_counts_at_once(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], channel="phone")
    answered = await desk.reply(opened["id"], "Told them on the phone.", via="phone")
    assert answered["targets"]["first_response"]["state"] == "met"
    assert await desk.rows(order["order_number"]) == [
        r for r in await desk.rows(order["order_number"]) if r.kind != "inquiry_reply"
    ]


async def test_priority_rises_when_a_delay_opens(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    assert opened["priority"] == "normal"
    await desk.post(
        f"/api/v1/orders/{order['order_number']}/delays",
        {"reason_code": "weather", "message": "Snow closed the depot"},
    )
    raised = await desk.inquiry(opened["id"])
    assert (raised["priority"], raised["priority_reason"]) == ("high", "open delay")
    # High: 60 minutes first response from the opening.
    assert raised["targets"]["first_response"]["due_at"] == iso(desk.later(60))
    changes = [e for e in raised["sla_events"] if e["kind"] == "priority"]
    assert [(e["value"], e["reason"]) for e in changes][-1] == ("high", "open delay")
    # A question on an order that has a delay open starts high.
    second = await desk.ask(order["order_number"], message="And now?")
    assert (second["priority"], second["priority_reason"]) == ("high", "open delay")


async def test_a_breach_is_recorded_once_across_two_processes(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")  # 30 minutes
    desk.clock.advance(minutes=31)
    url = desk.settings.database_url
    watchers, dbs, bells = [], [], []
    for _ in range(2):
        db = Database(url, pool_size=2)
        bell = InquiryBell(None, desk.settings.instance)
        await bell.start()
        watcher = BreachWatcher(db, desk.settings.sla_policy, desk.clock, bell, Metrics())
        await watcher.load()
        dbs.append(db), bells.append(bell), watchers.append(watcher)
    try:
        assert all(opened["id"] in w.due for w in watchers)
        # Both wake for the same due time at once: one records the breach, the other nothing.
        counts = await asyncio.gather(
            *(w.record_due([opened["id"]], desk.clock()) for w in watchers)
        )
        assert sorted(counts) == [0, 1]
    finally:
        for bell in bells:
            await bell.stop()
        for db in dbs:
            await db.dispose()
    breaches = await desk.events(opened["id"], "breach")
    assert [(e.target, e.at) for e in breaches] == [("first_response", desk.later(-1))]
    listed = (await desk.portal.get("/api/v1/inquiries?breached=true")).json()["inquiries"]
    assert [i["id"] for i in listed] == [opened["id"]]
    assert listed[0]["targets"]["first_response"]["state"] == "breached"


async def test_the_watcher_of_the_app_counts_breaches(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")
    watcher = desk.portal.runtime.breach_watcher
    await watcher.load()
    assert watcher.next_wake(desk.clock()) == desk.later(30)  # its warning time is now, told
    desk.clock.advance(minutes=30)
    await watcher.tick()
    metrics = (await desk.client.get("/metrics")).text
    assert 'portal_sla_breaches_total{target="first_response"} 1.0' in metrics
    assert len(await desk.events(opened["id"], "breach")) == 1


async def test_the_queue_puts_breached_first_then_by_due_time(desk: Desk) -> None:
    order = await desk.create_order()
    low = await desk.ask(order["order_number"], priority="low", message="low")
    urgent = await desk.ask(order["order_number"], priority="urgent", message="urgent")
    normal = await desk.ask(order["order_number"], message="normal")
    desk.clock.advance(minutes=45)  # the urgent one is past its 30 minutes
    listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
    assert [i["id"] for i in listed] == [urgent["id"], normal["id"], low["id"]]
    assert listed[0]["breached"] is True
    high = (await desk.portal.get("/api/v1/inquiries?priority=low")).json()["inquiries"]
    assert [i["id"] for i in high] == [low["id"]]


async def test_bad_requests_change_nothing(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    path = f"/api/v1/inquiries/{opened['id']}"
    assert (await desk.portal.post(path + "/state", {"state": "closed"})).status_code == 422
    assert (await desk.portal.post("/api/v1/inquiries", {"message": "x"})).status_code == 422
    assert (await desk.portal.get("/api/v1/inquiries/999999")).status_code == 404
    assert (await desk.portal.get("/api/v1/inquiries?state=nope")).status_code == 422
    assert (await desk.client.get("/api/v1/inquiries")).status_code == 401
    missing = await desk.portal.post("/api/v1/inquiries", {"message": "x", "order_number": "NOPE1"})
    assert missing.status_code == 404
    assert (await desk.inquiry(opened["id"]))["state"] == "open"


async def test_the_openapi_document_has_the_inquiry_routes(desk: Desk) -> None:
    doc = (await desk.client.get("/api/v1/openapi.json")).json()
    for path in (
        "/api/v1/inquiries",
        "/api/v1/inquiries/{inquiry_id}",
        "/api/v1/inquiries/{inquiry_id}/messages",
        "/api/v1/inquiries/{inquiry_id}/state",
        "/api/v1/inquiries/{inquiry_id}/order",
    ):
        assert path in doc["paths"], path
    assert "InquiryCreate" in doc["components"]["schemas"]
    assert "InquiryLink" in doc["components"]["schemas"]
