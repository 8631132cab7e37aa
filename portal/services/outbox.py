"""Notification outbox: rows written in the transaction of the change that triggers them.

Each milestone's notices are planned by the rules, rendered with the current templates, checked
by the accuracy gate, and stored with their exact content; the dispatcher sends them later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.links import carrier_name, tracking_url
from carriers.status import ShipmentStatus

from ..domain.status import OrderStatus
from ..models import Delay, Notification, Order, OrderItem, Shipment, TemplateVersion
from ..notify.gate import Notice, OrderFacts, check
from ..notify.kinds import Channel, NotificationKind, NotificationState, parse_milestone
from ..notify.rules import (
    Contact,
    CustomerPrefs,
    PlannedNotice,
    Rules,
    idempotency_key,
    load_rules,
    plan,
    send_after,
)
from ..notify.templates import NoticeContext, RenderError, TemplateSet
from ..settings import Settings
from ..timezones import local_date
from .links import PLACEMENT_LINK_DAYS, IssuedLink, issue_link
from .review import ReviewVia, review_link

# PostgreSQL NOTIFY channel: the transaction that queues notices wakes listening dispatchers.
OUTBOX_CHANNEL = "portal_outbox"


@dataclass
class Notifier:
    """What the outbox needs from the running portal: settings, rules, the template cache."""

    settings: Settings
    rules: Rules
    _templates: TemplateSet | None = None
    _templates_mark: int = -1

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        path = settings.notification_rules_file
        return cls(settings, load_rules(path) if path else Rules.default())

    async def templates(self, session: AsyncSession) -> TemplateSet:
        """The shipped templates with the edited versions stored in the database over them."""
        mark = (await session.execute(select(func.max(col(TemplateVersion.id))))).scalar() or 0
        if self._templates is None or mark != self._templates_mark:
            rows = (
                await session.execute(
                    select(TemplateVersion).order_by(col(TemplateVersion.version))
                )
            ).scalars()
            overrides = {(r.kind, r.channel, r.locale, r.part): (r.version, r.source) for r in rows}
            self._templates = TemplateSet.load_default(overrides=overrides)
            self._templates_mark = mark
        return self._templates


@dataclass
class NoticeFacts:
    """What a stored notice states, kept so the gate can check it again before sending."""

    portal_url: str
    tracking_number: str | None = None
    carrier: str | None = None
    carrier_url: str | None = None
    eta: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps(
            {
                "portal_url": self.portal_url,
                "tracking_number": self.tracking_number,
                "carrier": self.carrier,
                "carrier_url": self.carrier_url,
                "eta": self.eta.isoformat() if self.eta else None,
            }
        )

    @staticmethod
    def loads(raw: str) -> NoticeFacts:
        data = json.loads(raw or "{}")
        eta = data.get("eta")
        return NoticeFacts(
            portal_url=data.get("portal_url") or "",
            tracking_number=data.get("tracking_number"),
            carrier=data.get("carrier"),
            carrier_url=data.get("carrier_url"),
            eta=date.fromisoformat(eta) if eta else None,
        )


class CustomerFacts(Protocol):
    """What the notification preferences are read from (an Order or a plain row)."""

    @property
    def opt_out_channels(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def locale(self) -> str: ...


def customer_prefs(order: CustomerFacts) -> CustomerPrefs:
    opted = frozenset(
        Channel(c) for c in order.opt_out_channels.split(",") if c in Channel.__members__.values()
    )
    return CustomerPrefs(opted_out=opted, timezone=order.timezone, locale=order.locale)


async def order_facts(
    session: AsyncSession, order: Order, now: datetime, link_valid: bool
) -> OrderFacts:
    rows = await session.execute(
        select(col(Shipment.tracking_number), col(Shipment.carrier)).where(
            col(Shipment.order_id) == order.id, col(Shipment.status) != ShipmentStatus.CANCELLED
        )
    )
    return OrderFacts(
        status=OrderStatus(order.status),
        portal_link_valid=link_valid,
        today=local_date(now, order.timezone),
        shipments={number: carrier for number, carrier in rows.all()},
        opted_out=customer_prefs(order).opted_out,
    )


def gate_notice(row: Notification, facts: NoticeFacts) -> Notice:
    return Notice(
        kind=NotificationKind(row.kind),
        channel=Channel(row.channel),
        recipient=row.recipient,
        milestone=parse_milestone(row.milestone) if row.milestone else None,
        subject=row.subject if row.channel == Channel.EMAIL else None,
        text=row.body,
        html=row.html,
        portal_url=facts.portal_url,
        tracking_number=facts.tracking_number,
        carrier=facts.carrier,
        carrier_url=facts.carrier_url,
        eta=facts.eta,
    )


def _shipment_fields(facts: NoticeFacts, order: Order, shipment: Shipment) -> dict[str, Any]:
    """The carrier fields of a notice about ``shipment``; states its link and estimate."""
    link = shipment.public_url or tracking_url(shipment.carrier, shipment.tracking_number)
    facts.tracking_number, facts.carrier, facts.carrier_url = (
        shipment.tracking_number,
        shipment.carrier,
        link,
    )
    facts.eta = shipment.estimated_delivery or order.estimated_delivery
    return {
        "carrier": shipment.carrier,
        "carrier_name": carrier_name(shipment.carrier),
        "tracking_number": shipment.tracking_number,
        "carrier_url": link,
    }


def _delay_fields(facts: NoticeFacts, delay: Delay) -> dict[str, Any]:
    """The fields of a notice about ``delay``; states its new date.

    Only a date given with the delay is a new estimate; without one the notice says that the
    new date is not known yet, rather than repeat the estimate the delay overturns.
    """
    facts.eta = delay.new_eta
    return {
        "delay_reason_code": delay.reason_code,
        "delay_message": delay.message,
        "new_estimated_delivery": delay.new_eta,
        "compensation": delay.compensation,
        "alternatives": tuple(json.loads(delay.alternatives or "[]")),
    }


async def notice_context(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    link_path: str,
    today: date,
    *,
    shipment: Shipment | None = None,
    delay: Delay | None = None,
) -> tuple[NoticeContext, NoticeFacts]:
    """What a notice about ``order`` may say (its template's fields) and what it states (the
    facts the accuracy gate checks): the notice's share link is ``link_path`` (``/t/...``), and
    ``shipment`` and ``delay`` are the records the notice is about, if any. Used by the outbox,
    inquiry replies and template previews alike."""
    portal_url = settings.url(link_path)
    items = (
        await session.execute(
            select(OrderItem)
            .where(col(OrderItem.order_id) == order.id)
            .order_by(col(OrderItem.position))
        )
    ).scalars()
    facts = NoticeFacts(portal_url=portal_url, eta=order.estimated_delivery)
    carrier_fields = _shipment_fields(facts, order, shipment) if shipment is not None else {}
    delay_fields = _delay_fields(facts, delay) if delay is not None else {}
    if facts.eta is not None and facts.eta < today:
        # An estimate that has passed is left out rather than stated (it is optional in every
        # notice that shows it); what a notice must state, such as a delay's new date, stays.
        facts.eta = None
    ctx = NoticeContext(
        shop_name=settings.shop_name,
        order_number=order.order_number,
        customer_name=order.customer_name,
        portal_url=portal_url,
        items=tuple((i.name, i.quantity) for i in items),
        status=order.status,
        promised_ship_by=order.promised_ship_by,
        promised_deliver_by=order.promised_deliver_by,
        estimated_delivery=facts.eta,
        unsubscribe_url=settings.url(link_path + "/unsubscribe"),
        feedback_url=portal_url + "#feedback",
        review_url=review_link(settings, order.order_number, ReviewVia.NOTICE)
        or portal_url + "#feedback",
        support_email=settings.support_email,
        **carrier_fields,
        **delay_fields,
    )
    return ctx, facts


def stated_eta(kind: NotificationKind, ctx: NoticeContext) -> date | None:
    """The delivery date a notice of `kind` tells the customer, which the gate checks."""
    if kind is NotificationKind.DELIVERY:
        return None  # it announces the delivery itself, not a date
    if kind is NotificationKind.DELAY:
        return ctx.new_estimated_delivery
    if kind is NotificationKind.ORDER_CONFIRMATION:
        return ctx.promised_deliver_by
    return ctx.estimated_delivery


def _ref(notice: PlannedNotice, shipment: Shipment | None, delay: Delay | None) -> str | None:
    if delay is not None:
        return f"delay-{delay.id}"
    if shipment is not None:
        return f"shipment-{shipment.id}"
    return None


def render_and_check(
    row: Notification,
    templates: TemplateSet,
    ctx: NoticeContext,
    facts: NoticeFacts,
    current: OrderFacts | None,
) -> None:
    """Render a new outbox row's content and run the accuracy gate on it, in place: a notice
    that does not render, or that the gate refuses, is stored blocked (or superseded).
    ``current`` is None for a notice about no order."""
    try:
        rendered = templates.render(row.kind, row.channel, row.locale, ctx)
    except RenderError as exc:
        row.state, row.blocked_reason = NotificationState.BLOCKED, f"render_failed: {exc}"[:500]
        return
    row.subject, row.body, row.html = rendered.subject or "", rendered.text, rendered.html
    row.template_version = rendered.template_version
    verdict = check(gate_notice(row, facts), current)
    if not verdict.ok:
        row.state = verdict.outcome.value
        row.blocked_reason = f"{verdict.reason.value if verdict.reason else ''}: {verdict.message}"[
            :500
        ]


_TAKEN_KEYS = select(col(Notification.idempotency_key)).where(
    col(Notification.idempotency_key).in_(bindparam("keys", expanding=True))
)


async def enqueue_for_milestone(
    session: AsyncSession,
    uow: Any,
    order: Order,
    *,
    milestone: str,
    event_seq: int,
    now: datetime,
    link: IssuedLink | None = None,
    shipment: Shipment | None = None,
    delay: Delay | None = None,
) -> int:
    """Write the milestone's notices to the outbox in the caller's transaction; returns how many."""
    notifier: Notifier | None = uow.notifier
    if notifier is None:
        raise RuntimeError("a change that notifies needs a UnitOfWork with a notifier")
    prefs = customer_prefs(order)
    planned = plan(
        notifier.rules, milestone, prefs, Contact(order.customer_email, order.customer_phone)
    )
    if not planned:
        return 0
    fresh = [
        (notice, idempotency_key(order.order_number, notice, _ref(notice, shipment, delay)))
        for notice in planned
    ]
    taken = set((await session.execute(_TAKEN_KEYS, {"keys": [key for _, key in fresh]})).scalars())
    fresh = [(notice, key) for notice, key in fresh if key not in taken]
    if not fresh:
        return 0
    if link is None:
        link = issue_link(
            session, order, now=now, expires_in_days=PLACEMENT_LINK_DAYS, created_by="notification"
        )
    await session.flush()
    settings = notifier.settings
    current = await order_facts(session, order, now, link_valid=True)
    ctx, shared = await notice_context(
        session, settings, order, link.path(), current.today, shipment=shipment, delay=delay
    )
    templates = await notifier.templates(session)
    assert order.id is not None
    for notice, key in fresh:
        facts = replace(shared, eta=stated_eta(notice.kind, ctx))
        row = Notification(
            order_id=order.id,
            idempotency_key=key,
            kind=notice.kind.value,
            channel=notice.channel.value,
            milestone=notice.milestone.value,
            event_seq=event_seq,
            shipment_id=shipment.id if shipment else None,
            delay_id=delay.id if delay else None,
            portal_link_id=link.link.id,
            facts=facts.dumps(),
            recipient=notice.recipient,
            locale=order.locale,
            state=NotificationState.PENDING,
            body="",
            created_at=now,
            due_at=send_after(notice.channel, now, prefs),
        )
        render_and_check(row, templates, ctx, facts, current)
        session.add(row)
        uow.notifications += 1
    if session.get_bind().dialect.name == "postgresql":
        # Delivered when (and only if) this transaction commits: separate dispatchers that
        # LISTEN wake at once; several in one transaction are folded into one by PostgreSQL.
        await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
    return len(fresh)
