"""`portal mail-in` on SQLite and PostgreSQL, over real SMTP both ways (aiosmtpd receives the
portal's mail and the customers' replies): tags, order numbers in subjects, unmatched mail,
the sender check, the size limit at SMTP, dead letters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import pytest
from sqlalchemy import select
from sqlmodel import col

from portal.mail_in import MailHandler, start_mail_in
from portal.models_inquiries import InboundMail
from tests.integration.inquiries.conftest import Desk

LIMIT = 64 * 1024


@pytest.fixture
async def mail_in(desk: Desk) -> AsyncIterator[tuple[int, MailHandler]]:
    server, handler, close = await start_mail_in(
        desk.settings, "127.0.0.1", 0, max_size=LIMIT, clock=desk.clock
    )
    try:
        yield int(server.sockets[0].getsockname()[1]), handler
    finally:
        await close()


def mail(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(text)
    return message


async def send(port: int, message: EmailMessage | bytes, sender: str, to: str) -> None:
    if isinstance(message, bytes):
        await aiosmtplib.send(
            message, sender=sender, recipients=[to], hostname="127.0.0.1", port=port
        )
    else:
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port)


async def mails(desk: Desk) -> list[InboundMail]:
    async with desk.portal.runtime.db.read() as session:
        return list(
            (await session.execute(select(InboundMail).order_by(col(InboundMail.id)))).scalars()
        )


async def test_a_reply_to_the_tagged_address_lands_on_the_inquiry_and_resumes_it(
    desk: Desk, mail_in: tuple[int, MailHandler]
) -> None:
    port, _ = mail_in
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    await desk.reply(opened["id"], "Can you send a photo of the label?")
    await desk.post(f"/api/v1/inquiries/{opened['id']}/state", {"state": "waiting_on_customer"})
    await desk.drain()
    sent = desk.smtp.with_subject("an answer about your order")[0]
    reply_to = str(sent["Reply-To"])
    desk.clock.advance(minutes=20)
    answer = mail(
        "ada@example.com",
        reply_to,
        "Re: " + str(sent["Subject"]),
        "Here it is.\n\nOn Tue, Support wrote:\n> Can you send a photo of the label?",
    )
    await send(port, answer, "ada@example.com", reply_to)
    detail = await desk.inquiry(opened["id"])
    assert detail["state"] == "open"  # the customer answered: the clock runs again
    assert detail["messages"][-1]["body"] == "Here it is."
    assert (detail["messages"][-1]["channel"], detail["messages"][-1]["direction"]) == (
        "email",
        "inbound",
    )
    assert detail["targets"]["resolution"]["state"] == "pending"
    assert detail["targets"]["next_response"]["state"] == "pending"
    kept = await mails(desk)
    assert [(m.outcome, m.matched_by, m.inquiry_id) for m in kept] == [
        ("matched", "tag", opened["id"])
    ]
    assert b"Here it is." in kept[0].raw


async def test_an_order_number_in_the_subject_matches_only_for_the_customer(
    desk: Desk, mail_in: tuple[int, MailHandler]
) -> None:
    port, _ = mail_in
    order = await desk.create_order()
    number = order["order_number"]
    await send(port, mail("ADA@example.com", "support@shop.example", f"Order {number}", "Hello?"),
               "ada@example.com", "support@shop.example")  # fmt: skip
    await send(port, mail("mallory@example.com", "support@shop.example", f"Order {number}", "Me"),
               "mallory@example.com", "support@shop.example")  # fmt: skip
    kept = await mails(desk)
    assert [(m.outcome, m.matched_by) for m in kept] == [
        ("matched", "subject"),
        ("unmatched", None),
    ]
    listed = {i["id"]: i for i in (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]}
    assert listed[kept[0].inquiry_id]["order_number"] == number
    assert listed[kept[1].inquiry_id]["order_number"] is None  # never shown on the order's page
    page = (await desk.client.get(order["tracking_url"].split("8000", 1)[-1])).text
    assert "Hello?" in page and "Me" not in page.split('id="inquiries"')[1].split("</section>")[0]


async def test_an_unmatched_mail_becomes_an_unmatched_inquiry(
    desk: Desk, mail_in: tuple[int, MailHandler]
) -> None:
    port, _ = mail_in
    await send(port, mail("bob@example.com", "support@shop.example", "Hi", "Where is my stuff?"),
               "bob@example.com", "support@shop.example")  # fmt: skip
    listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
    assert [(i["order_number"], i["channel"], i["customer_email"]) for i in listed] == [
        (None, "email", "bob@example.com")
    ]


async def test_oversized_mail_is_refused_at_smtp(
    desk: Desk, mail_in: tuple[int, MailHandler]
) -> None:
    port, _ = mail_in
    big = mail("ada@example.com", "support@shop.example", "Big", "x" * (LIMIT + 1000))
    with pytest.raises(aiosmtplib.SMTPException) as refused:
        await send(port, big, "ada@example.com", "support@shop.example")
    assert "552" in str(refused.value) or getattr(refused.value, "code", None) == 552
    assert await mails(desk) == []


async def test_unparseable_mail_is_kept_raw_as_a_dead_letter(
    desk: Desk, mail_in: tuple[int, MailHandler]
) -> None:
    port, handler = mail_in
    raw = b"\xff\xfenot a mail at all\r\n"
    await send(port, raw, "bounce@example.com", "support@shop.example")
    kept = await mails(desk)
    assert [(m.outcome, m.inquiry_id) for m in kept] == [("dead_letter", None)]
    assert raw.rstrip(b"\r\n") in kept[0].raw
    assert handler.received == 1
    assert (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"] == []
