"""The accuracy gate: may this notice go out, given what is true of the order now?

Run when a notice is created and again just before it is sent. Pure: the caller loads the
order's facts (status, shipments, link validity, the customer's today and opt-outs) and gets a
verdict back. A notice the order has moved past is superseded (a normal outcome, not an error);
a notice that would say something wrong, or reach the wrong place, is blocked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from urllib.parse import unquote, urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from portal.domain.status import ORDER_RANK, STOPPED, OrderStatus
from portal.notify.kinds import (
    ORDERLESS_KINDS,
    REPLY_KINDS,
    Channel,
    Milestone,
    NotificationKind,
    parse_milestone,
)

S = OrderStatus
# Milestone order (out for delivery and available for pickup at one rank) and the statuses that
# stop an order short of delivery: the status rules' own tables.
RANK = ORDER_RANK
TERMINAL = STOPPED

# From which order status a notice of each kind is stale once the order has moved past the
# milestone it announces. A status update is stale as soon as the status moves on (the next
# update tells the customer). A confirmation, a shipping notice (the tracking number is still
# useful while the parcel travels) and a delay notice stay useful until delivery.
STALE_FROM: Mapping[NotificationKind, OrderStatus] = {
    NotificationKind.STATUS_UPDATE: S.PLACED,
    NotificationKind.ORDER_CONFIRMATION: S.DELIVERED,
    NotificationKind.SHIPPING: S.DELIVERED,
    NotificationKind.DELAY: S.DELIVERED,
    NotificationKind.DELIVERY: S.DELIVERED,
}

# Traces of a template that did not render: Jinja syntax, or a missing value printed.
UNRENDERED = re.compile(r"\{\{|\{%|\{#|\bNone\b|\b[Uu]ndefined\b")
TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#")


class Outcome(StrEnum):
    """The gate's answer."""

    OK = "ok"
    SUPERSEDED = "superseded"
    BLOCKED = "blocked"


class Reason(StrEnum):
    """Why a notice is not sent: a machine code for the log, the API and the console."""

    OVERTAKEN = "overtaken"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_RETURNED = "order_returned"
    ALREADY_DELIVERED = "already_delivered"
    STATUS_MISMATCH = "status_mismatch"
    OPTED_OUT = "opted_out"
    RECIPIENT_INVALID = "recipient_invalid"
    SUBJECT_EMPTY = "subject_empty"
    BODY_EMPTY = "body_empty"
    UNRENDERED = "unrendered"
    PORTAL_LINK_MISSING = "portal_link_missing"
    PORTAL_LINK_INVALID = "portal_link_invalid"
    TRACKING_MISSING = "tracking_missing"
    TRACKING_UNKNOWN = "tracking_unknown"
    CARRIER_MISMATCH = "carrier_mismatch"
    CARRIER_LINK_MISMATCH = "carrier_link_mismatch"
    ETA_IN_PAST = "eta_in_past"
    ORDER_MISSING = "order_missing"


@dataclass(frozen=True, slots=True)
class Verdict:
    """ok, or superseded / blocked with a reason code and a message for people."""

    outcome: Outcome
    reason: Reason | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the notice may be sent."""
        return self.outcome is Outcome.OK

    @classmethod
    def allow(cls) -> Verdict:
        """The notice may go."""
        return cls(Outcome.OK)

    @classmethod
    def superseded(cls, reason: Reason, message: str) -> Verdict:
        """The order has moved on; the notice is no longer worth sending."""
        return cls(Outcome.SUPERSEDED, reason, message)

    @classmethod
    def blocked(cls, reason: Reason, message: str) -> Verdict:
        """The notice would be wrong or go to the wrong place."""
        return cls(Outcome.BLOCKED, reason, message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A rendered notice as stored, with the facts it states."""

    kind: NotificationKind
    channel: Channel
    recipient: str
    milestone: Milestone | None  # None for a notice about no order (ORDERLESS_KINDS)
    subject: str | None
    text: str
    html: str | None = None
    portal_url: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    carrier_url: str | None = None
    eta: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", NotificationKind(self.kind))
        object.__setattr__(self, "channel", Channel(self.channel))
        if self.milestone is not None:
            object.__setattr__(self, "milestone", parse_milestone(self.milestone))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFacts:
    """What is true of the order now, loaded by the caller.

    `portal_link_valid`: the share-link token in the notice's portal URL still resolves to this
    order (exists, not expired, not revoked). `shipments` maps each current tracking number of
    the order's shipments to its carrier code. `today` is the date in the customer's timezone.
    """

    status: OrderStatus
    portal_link_valid: bool
    today: date
    shipments: Mapping[str, str] = field(default_factory=dict)
    opted_out: frozenset[Channel] = frozenset()

    def __post_init__(self) -> None:
        # An order's status is never `delayed`: OrderStatus refuses it.
        object.__setattr__(self, "status", OrderStatus(self.status))
        object.__setattr__(self, "opted_out", frozenset(Channel(c) for c in self.opted_out))


def check(notice: Notice, facts: OrderFacts | None) -> Verdict:
    """The verdict on `notice`: the first reason it must not go, or ok.

    A notice about no order (ORDERLESS_KINDS, ``facts`` None) is checked for what needs no
    order: its recipient, its content, and that it states no share link, tracking number or
    date (there is no order to check them against). Any other notice needs its order's facts.
    """
    if notice.kind in ORDERLESS_KINDS:
        return _orderless(notice)
    if facts is None:
        return Verdict.blocked(Reason.ORDER_MISSING, f"a {notice.kind} notice needs its order")
    for step in (
        _supersession,
        _opt_out,
        _recipient,
        _content,
        _portal_link,
        _tracking,
        _eta,
    ):
        verdict = step(notice, facts)
        if verdict is not None:
            return verdict
    return Verdict.allow()


def _orderless(notice: Notice) -> Verdict:
    for step in (_recipient, _content):
        verdict = step(notice, None)
        if verdict is not None:
            return verdict
    stated = [
        name
        for name, value in (
            ("a portal link", notice.portal_url),
            ("a tracking number", notice.tracking_number),
            ("a carrier link", notice.carrier_url),
            ("a delivery date", notice.eta),
        )
        if value
    ]
    if stated:
        return Verdict.blocked(
            Reason.ORDER_MISSING, f"a notice about no order states {', '.join(stated)}"
        )
    return Verdict.allow()


def _supersession(notice: Notice, facts: OrderFacts) -> Verdict | None:
    if notice.kind is NotificationKind.INQUIRY_REPLY:
        return None  # an answer to the customer's question is due whatever the order did since
    status, announced = facts.status, notice.milestone
    if announced is None:
        return Verdict.blocked(Reason.STATUS_MISMATCH, "the notice announces no milestone")
    if status in TERMINAL:
        if announced is status and notice.kind is NotificationKind.STATUS_UPDATE:
            return None
        reason = Reason.ORDER_CANCELLED if status is S.CANCELLED else Reason.ORDER_RETURNED
        return Verdict.superseded(reason, f"the order was {status.value} since")
    if announced in TERMINAL:
        return Verdict.blocked(
            Reason.STATUS_MISMATCH, f"announces {announced.value} but the order is {status.value}"
        )
    # a delay may open at any milestone
    announced_rank = RANK[announced] if isinstance(announced, OrderStatus) else -1
    if announced_rank > RANK[status]:
        return Verdict.blocked(
            Reason.STATUS_MISMATCH,
            f"announces {announced.value} but the order is only {status.value}",
        )
    stale_from = max(announced_rank, RANK[STALE_FROM[notice.kind]])
    if status is not announced and RANK[status] >= stale_from:
        if status is S.DELIVERED:
            return Verdict.superseded(
                Reason.ALREADY_DELIVERED, f"the order was delivered before this {notice.kind}"
            )
        return Verdict.superseded(
            Reason.OVERTAKEN, f"announces {announced.value} but the order is {status.value} now"
        )
    return None


def _opt_out(notice: Notice, facts: OrderFacts) -> Verdict | None:
    if notice.channel in facts.opted_out:
        return Verdict.blocked(Reason.OPTED_OUT, f"the customer opted out of {notice.channel}")
    return None


def _recipient(notice: Notice, facts: OrderFacts | None) -> Verdict | None:
    valid = (
        is_valid_email(notice.recipient)
        if notice.channel is Channel.EMAIL
        else is_valid_e164(notice.recipient)
    )
    if not valid:
        what = "email address" if notice.channel is Channel.EMAIL else "E.164 phone number"
        return Verdict.blocked(
            Reason.RECIPIENT_INVALID, f"{notice.recipient!r} is not a valid {what}"
        )
    return None


def _content(notice: Notice, facts: OrderFacts | None) -> Verdict | None:
    if notice.channel is Channel.EMAIL and not (notice.subject or "").strip():
        return Verdict.blocked(Reason.SUBJECT_EMPTY, "the email has no subject")
    if not notice.text.strip():
        return Verdict.blocked(Reason.BODY_EMPTY, "the message has no text")
    for part, value in (("subject", notice.subject), ("text", notice.text), ("html", notice.html)):
        # An agent's reply is free text in which "None" may well be a word: only template
        # syntax left in it counts there (a missing field already fails the render).
        free = notice.kind in REPLY_KINDS and part != "subject"
        found = (TEMPLATE_SYNTAX if free else UNRENDERED).search(value or "")
        if found:
            return Verdict.blocked(
                Reason.UNRENDERED, f"the {part} contains {found.group()!r}: a field was not filled"
            )
    return None


def _portal_link(notice: Notice, facts: OrderFacts) -> Verdict | None:
    link_sent = notice.channel is not Channel.PHONE  # a call script does not read out links
    if not notice.portal_url:
        if link_sent:
            return Verdict.blocked(Reason.PORTAL_LINK_MISSING, "the notice has no portal link")
        return None
    if link_sent and notice.portal_url not in notice.text:
        return Verdict.blocked(
            Reason.PORTAL_LINK_MISSING, "the message does not show the checked portal link"
        )
    if not facts.portal_link_valid or not _is_web_url(notice.portal_url):
        return Verdict.blocked(
            Reason.PORTAL_LINK_INVALID, "the portal link no longer opens this order"
        )
    return None


def _tracking(notice: Notice, facts: OrderFacts) -> Verdict | None:
    if notice.kind is not NotificationKind.SHIPPING:
        return None
    number = (notice.tracking_number or "").strip()
    if not number:
        return Verdict.blocked(Reason.TRACKING_MISSING, "a shipping notice needs a tracking number")
    if number not in facts.shipments:
        return Verdict.blocked(
            Reason.TRACKING_UNKNOWN, f"tracking number {number} is not one of this order's"
        )
    carrier = facts.shipments[number]
    if notice.carrier and notice.carrier.lower() != carrier.lower():
        return Verdict.blocked(
            Reason.CARRIER_MISMATCH,
            f"tracking number {number} is with {carrier}, not {notice.carrier}",
        )
    if notice.channel is not Channel.PHONE and number not in notice.text:
        return Verdict.blocked(
            Reason.TRACKING_MISSING, "the message does not show the tracking number"
        )
    url = notice.carrier_url or ""
    if not _is_web_url(url) or not _contains_token(unquote(url), number):
        return Verdict.blocked(
            Reason.CARRIER_LINK_MISMATCH, f"the carrier link does not track {number}"
        )
    if notice.channel is not Channel.PHONE and url not in notice.text:
        return Verdict.blocked(
            Reason.CARRIER_LINK_MISMATCH, "the message does not show the checked carrier link"
        )
    return None


def _eta(notice: Notice, facts: OrderFacts) -> Verdict | None:
    if notice.eta is not None and notice.eta < facts.today:
        return Verdict.blocked(
            Reason.ETA_IN_PAST, f"the estimated delivery {notice.eta.isoformat()} has passed"
        )
    return None


def is_valid_email(address: str) -> bool:
    """Whether `address` is a syntactically valid email address (no DNS look-up)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def is_valid_e164(number: str) -> bool:
    """Whether `number` is a valid phone number written in E.164 (`+14155552671`)."""
    if not number.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and e164 == number


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _contains_token(text: str, token: str) -> bool:
    # The tracking number must appear whole: 1Z99 must not match a link for 1Z999.
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", text) is not None
