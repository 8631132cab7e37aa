"""Answering an unmatched inquiry (an email that matched no order) by email, on SQLite and
PostgreSQL over real SMTP: the answer goes to the sender through the outbox, the gate and the
dispatcher like every notice, as a notice about no order; it stops the clock when sent, is in
the inquiry's history and on its page; the sender's reply to it lands on the same inquiry;
linking the inquiry moves the answer to the order (archive, audit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from portal.mail_in import start_mail_in
from portal.models import Notification
from portal.notify.rules import Rules
from portal.services.audit import audit_all
from portal.services.audit_findings import AuditSchedule
from tests.integration.inquiries.conftest import Desk
from tests.integration.inquiries.test_inquiry_link import unmatched
from tests.integration.inquiries.test_mail_in import mail, send
from tests.integration.staff_helpers import staff_client

SENDER = "bob@example.net"


@pytest.fixture
async def mail_in_port(desk: Desk) -> AsyncIterator[int]:
    server, _, close = await start_mail_in(desk.settings, "127.0.0.1", 0, clock=desk.clock)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await close()


async def _orderless(desk: Desk) -> list[Notification]:
    return [r for r in await desk.rows() if r.order_id is None]


async def test_an_unmatched_inquiry_is_answered_by_email_to_its_sender(
    desk: Desk, mail_in_port: int
) -> None:
    opened = await unmatched(desk, SENDER)
    desk.clock.advance(minutes=10)
    await desk.reply(opened["id"], "We found no order from this address. None at all.")
    [row] = await _orderless(desk)
    assert (row.kind, row.channel, row.recipient, row.state) == (
        "unmatched_inquiry_reply", "email", SENDER, "pending",
    )  # fmt: skip
    typed = await desk.inquiry(opened["id"])
    assert typed["targets"]["first_response"]["state"] == "pending"  # typed, not sent yet
    desk.clock.advance(minutes=5)
    await desk.drain()
    [sent] = desk.smtp.with_subject("an answer to your question")
    assert str(sent["To"]) == SENDER
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "We found no order from this address. None at all." in text
    assert "/t/" not in text and sent["List-Unsubscribe"] is None  # no order, no share link
    after = await desk.inquiry(opened["id"])
    assert after["targets"]["first_response"]["state"] == "met"
    [answer] = [m for m in after["messages"] if m["direction"] == "outbound"]
    assert answer["sent_at"] == after["messages"][-1]["sent_at"] is not None
    assert [r.state for r in await _orderless(desk)] == ["sent"]
    assert await audit_all(desk.portal.runtime.db, Rules.default(), desk.clock()) == []
    # The sender answers the answer: it lands on the same inquiry, by its tag.
    reply_to = str(sent["Reply-To"])
    assert "+" in reply_to
    back = mail(SENDER, reply_to, "Re: " + str(sent["Subject"]), "It was a gift, order A-77.")
    await send(mail_in_port, back, SENDER, reply_to)
    again = await desk.inquiry(opened["id"])
    assert again["messages"][-1]["body"] == "It was a gift, order A-77."
    assert again["order_number"] is None
    listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
    assert [i["id"] for i in listed] == [opened["id"]]  # no new unmatched inquiry


async def test_linking_moves_the_answer_to_the_order_its_archive_and_audit(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, order["customer"]["email"])
    await desk.reply(opened["id"], "Which order is it about?")
    await desk.drain()
    await desk.post(f"/api/v1/inquiries/{opened['id']}/order", {"order_number": number})
    assert await _orderless(desk) == []
    moved = [r for r in await desk.rows(number) if r.kind == "unmatched_inquiry_reply"]
    assert [(r.state, r.recipient) for r in moved] == [("sent", order["customer"]["email"])]
    archive = (await desk.portal.get(f"/api/v1/orders/{number}/archive")).json()
    kinds = [n["kind"] for n in archive["notifications"]]
    assert "unmatched_inquiry_reply" in kinds
    findings = await audit_all(desk.portal.runtime.db, Rules.default(), desk.clock())
    assert [f for f in findings if "unmatched_inquiry_reply" in f["problem"]] == []


async def test_the_inquiry_page_sends_the_answer_and_shows_it_sent(desk: Desk) -> None:
    opened = await unmatched(desk, SENDER)
    page = f"/support/inquiries/{opened['id']}"
    async with staff_client(desk.portal, role="agent") as agent:
        form = (await agent.get(page)).text
        assert f'<option value="outbox">by email to {SENDER}</option>' in form
        answered = await agent.post_form(
            page + "/reply", {"body": "We will look into it.", "via": "outbox"}
        )
        assert answered.status_code == 303
        assert answered.headers["location"] == page + "?done=reply-sent"
        shown = (await agent.get(answered.headers["location"])).text
        assert "The answer is on its way." in shown and "not sent yet" in shown
        await desk.drain()
        assert "not sent yet" not in (await agent.get(page)).text
    [sent] = desk.smtp.with_subject("an answer to your question")
    assert str(sent["To"]) == SENDER


async def test_the_audit_lists_an_answer_about_no_order_that_has_not_gone_out(
    desk: Desk,
) -> None:
    opened = await unmatched(desk, SENDER)
    await desk.reply(opened["id"], "We are looking.")
    db = desk.portal.runtime.db
    assert await audit_all(db, Rules.default(), desk.clock()) == []  # not late yet
    desk.clock.advance(minutes=61)  # no dispatcher ran: the answer is overdue
    [finding] = await audit_all(db, Rules.default(), desk.clock())
    assert finding["order_number"] == ""
    assert finding["problem"].startswith("unmatched_inquiry_reply by email overdue since")
    assert finding["problem"].endswith(f"(to {SENDER}, about no order)")
    assert await AuditSchedule(desk.portal.runtime, 60).tick()  # kept, and on the console
    async with staff_client(desk.portal, role="agent") as agent:
        page = (await agent.get("/support/audit")).text
    assert "<td>no order</td>" in page and 'href="/support/orders/"' not in page
    await desk.drain()
    assert await audit_all(db, Rules.default(), desk.clock()) == []
