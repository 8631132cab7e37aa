"""Mail received by `portal mail-in`: kept raw, matched to an inquiry, added to it.

Matching, in order: the Reply-To tag the mail was sent to (``support+m42-...@``: the inquiry
of message 42; ``support+o7-...@``: order 7), then an order number in the subject, else a new
inquiry with no order (unmatched). Before a mail is added to an order's inquiry, where the
customer would see it on the tracking page, its sender must be the order's customer; a mail
from anyone else becomes an unmatched inquiry for an agent to look at. A mail that cannot be
parsed (no sender, no text) is kept raw as a dead letter. Every mail is an interaction
(channel email, inbound) through the inquiry services, and restarts the customer-waiting clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from ..domain.inquiries import InquiryChannel, InquiryState
from ..domain.inquiry_link import same_address
from ..domain.mail_tags import order_numbers_in, parse_tag, tag_in_recipients
from ..models import Order
from ..models_inquiries import InboundMail, Inquiry, InquiryMessage
from ..settings import Settings
from . import inquiries as service
from .timeline import UnitOfWork

MAX_BODY_CHARS = 20_000
_QUOTE_START = re.compile(r"^(On .+ wrote:|-+ ?Original Message ?-+|From: .+)$", re.I)


class Unparseable(ValueError):
    """The mail has no sender or no readable text."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    sender: str
    subject: str
    text: str
    recipients: list[str]


def parse_mail(raw: bytes, envelope_from: str, rcpt_tos: list[str]) -> ParsedMail:
    """The sender, subject, new text (quoted history cut) and every recipient of a mail."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; what still fails is kept as it came
        raise Unparseable(f"cannot parse the message: {exc}") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise Unparseable("no headers")
    sender = parseaddr(str(message.get("From", "")))[1] or envelope_from
    if "@" not in sender:
        raise Unparseable("no sender address")
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        text = str(part.get_content()) if part is not None else ""
    except (LookupError, ValueError, AssertionError) as exc:
        raise Unparseable(f"unreadable body: {exc}") from None
    if part is not None and part.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    body = new_text(text)
    if not body:
        raise Unparseable("no text")
    headers = [str(message.get(h, "")) for h in ("To", "Cc", "Delivered-To")]
    recipients = [*rcpt_tos, *(a for _, a in getaddresses(headers) if a)]
    return ParsedMail(sender.lower(), str(message.get("Subject", "")), body, recipients)


def new_text(text: str) -> str:
    """What the customer wrote in this mail: quoted replies below it are cut."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(">") or _QUOTE_START.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()[:MAX_BODY_CHARS]


@dataclass(frozen=True, slots=True)
class MailOutcome:
    mail_id: int
    outcome: str  # matched, unmatched, dead_letter
    matched_by: str | None
    inquiry_id: int | None
    uow: UnitOfWork


async def receive_mail(
    db: Any,
    settings: Settings,
    raw: bytes,
    *,
    envelope_from: str,
    rcpt_tos: list[str],
    peer: str,
    now: datetime,
) -> MailOutcome:
    """Keep the mail and add it where it belongs, in one transaction."""
    uow = UnitOfWork()
    async with db.write() as session:
        mail = InboundMail(
            received_at=now,
            peer=peer[:200],
            mail_from=envelope_from[:320],
            rcpt_to=", ".join(rcpt_tos)[:1000],
            size=len(raw),
            raw=raw,
            outcome="dead_letter",
        )
        session.add(mail)
        await session.flush()
        assert mail.id is not None
        try:
            parsed = parse_mail(raw, envelope_from, rcpt_tos)
        except Unparseable as exc:
            mail.error = str(exc)[:1000]
            return MailOutcome(mail.id, "dead_letter", None, None, uow)
        work = service.Work(session, uow, settings.sla_policy, now)
        inquiry, order, how = await _match(session, settings, parsed)
        author = service.Author(parsed.sender)
        if inquiry is not None:
            await service.add_customer_message(
                work, inquiry, parsed.text, channel=InquiryChannel.EMAIL, author=author,
                inbound_mail_id=mail.id,
            )  # fmt: skip
        else:
            new = service.NewInquiry(
                channel=InquiryChannel.EMAIL,
                message=parsed.text,
                subject=parsed.subject,
                order=order,
                customer_email=parsed.sender,
                inbound_mail_id=mail.id,
            )
            inquiry = await service.open_inquiry(work, new, author)
        mail.outcome = "matched" if how else "unmatched"
        mail.matched_by = how
        mail.inquiry_id = inquiry.id
        session.add(mail)
        return MailOutcome(mail.id, mail.outcome, how, inquiry.id, uow)


def _tag_of(settings: Settings, parsed: ParsedMail) -> str | None:
    if not settings.inbound_address:
        return None
    return tag_in_recipients(parsed.recipients, settings.inbound_address)


async def _match(
    session: Any, settings: Settings, parsed: ParsedMail
) -> tuple[Inquiry | None, Order | None, str | None]:
    """The inquiry to add to (None: open one), its order, and what matched ("tag",
    "subject"; None: unmatched, which a sender other than the order's customer always is)."""
    tag = _tag_of(settings, parsed)
    found = parse_tag(tag, settings.secret_key) if tag else None
    order: Order | None = None
    how = "tag"
    if found is not None and found.kind == "m":
        message = await session.get(InquiryMessage, found.number)
        if message is not None:
            inquiry = await session.get(Inquiry, message.inquiry_id, with_for_update=True)
            order = await session.get(Order, inquiry.order_id) if inquiry.order_id else None
            if order is not None and same_address(parsed.sender, order.customer_email):
                return inquiry, order, how
            if inquiry.order_id is None and same_address(parsed.sender, inquiry.customer_email):
                return inquiry, None, how  # an answer to an unmatched inquiry, replied to
            return None, None, None
    if found is not None and found.kind == "o":
        order = await session.get(Order, found.number)
    if order is None:
        order, how = await _order_in_subject(session, parsed.subject), "subject"
    if order is None or not same_address(parsed.sender, order.customer_email):
        return None, None, None
    open_one = (
        await session.execute(
            select(Inquiry)
            .where(
                col(Inquiry.order_id) == order.id,
                col(Inquiry.state) != InquiryState.RESOLVED.value,
            )
            .order_by(col(Inquiry.id).desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    return open_one, order, how


async def _order_in_subject(session: Any, subject: str) -> Order | None:
    for number in order_numbers_in(subject):
        order = (
            await session.execute(
                select(Order).where(func.lower(col(Order.order_number)) == number.lower())
            )
        ).scalar_one_or_none()
        if order is not None:
            return order
    return None
