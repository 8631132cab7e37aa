"""Notification outbox: rows written in the transaction of the change that triggers them.

Each milestone's notices are planned by the rules, rendered with the current templates, checked
by the accuracy gate, and stored with their exact content; the dispatcher sends them later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.status import ShipmentStatus

from ..domain.status import OrderStatus
from ..models import Delay, Notification, Order, Shipment, TemplateVersion, table_of
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
from .notice_content import NoticeFacts, notice_context, stated_eta
from .order_lock import OrderParts

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

    async def templates(self, session: AsyncSession, mark: int | None = None) -> TemplateSet:
        """The shipped templates with the edited versions stored in the database over them.

        ``mark``: the newest template version's id, when the caller has read it already."""
        if mark is None:
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


_LIVE_SHIPMENTS = select(col(Shipment.tracking_number), col(Shipment.carrier)).where(
    col(Shipment.order_id) == bindparam("order_id"),
    col(Shipment.status) != ShipmentStatus.CANCELLED,
)


async def order_facts(
    session: AsyncSession,
    order: Order,
    now: datetime,
    link_valid: bool,
    *,
    has_shipments: bool = True,
) -> OrderFacts:
    """The gate's view of ``order`` now; ``has_shipments=False`` (the caller knows it has none)
    spares the read of its shipments."""
    shipments: dict[str, str] = {}
    if has_shipments:
        rows = await session.execute(_LIVE_SHIPMENTS, {"order_id": order.id})
        shipments = {number: carrier for number, carrier in rows.all()}
    return OrderFacts(
        status=OrderStatus(order.status),
        portal_link_valid=link_valid,
        today=local_date(now, order.timezone),
        shipments=shipments,
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


_INSERT_NOTICES = insert(table_of(Notification))
_NOTICE_COLUMNS = [c for c in table_of(Notification).columns if c.name != "id"]


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
    parts: OrderParts | None = None,
    new_order: bool = False,
) -> int:
    """Write the milestone's notices to the outbox in the caller's transaction; returns how many.

    ``parts``: what the caller read with the order's row (portal.services.order_lock), so its
    items, shipments and template mark are not asked for again. ``new_order``: the order was
    placed in this transaction, so none of its notices can be queued already (their keys begin
    with its number, which is unique, and the portal deletes no order)."""
    notifier: Notifier | None = uow.notifier
    if notifier is None:
        raise RuntimeError("a change that notifies needs a UnitOfWork with a notifier")
    prefs = customer_prefs(order)
    fresh = await _fresh_notices(
        session, notifier.rules, order, milestone, prefs, shipment, delay, check_taken=not new_order
    )
    if not fresh:
        return 0
    if link is None:
        link = issue_link(
            session, order, now=now, expires_in_days=PLACEMENT_LINK_DAYS, created_by="notification"
        )
    await session.flush()
    has_shipments = parts is None or parts.has_shipments
    current = await order_facts(session, order, now, link_valid=True, has_shipments=has_shipments)
    ctx, shared = await notice_context(
        session,
        notifier.settings,
        order,
        link.path(),
        current.today,
        shipment=shipment,
        delay=delay,
        items=None if parts is None else [(i.name, i.quantity) for i in parts.items],
    )
    templates = await notifier.templates(session, None if parts is None else parts.template_mark)
    rows: list[dict[str, Any]] = []
    for notice, key in fresh:
        facts = replace(shared, eta=stated_eta(notice.kind, ctx))
        row = _notice_row(order, notice, key, event_seq, link, facts, now, prefs)
        row.shipment_id = shipment.id if shipment else None
        row.delay_id = delay.id if delay else None
        render_and_check(row, templates, ctx, facts, current)
        rows.append({c.name: getattr(row, c.name) for c in _NOTICE_COLUMNS})
    await _insert_notices(session, rows)
    uow.notifications += len(rows)
    return len(fresh)


async def _insert_notices(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    # One executemany, whatever the number of notices (the ORM's flush is one per row on SQLite).
    await session.execute(_INSERT_NOTICES, rows)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered when (and only if) this transaction commits: separate dispatchers that
        # LISTEN wake at once; several in one transaction are folded into one by PostgreSQL.
        await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))


async def _fresh_notices(
    session: AsyncSession,
    rules: Rules,
    order: Order,
    milestone: str,
    prefs: CustomerPrefs,
    shipment: Shipment | None,
    delay: Delay | None,
    *,
    check_taken: bool = True,
) -> list[tuple[PlannedNotice, str]]:
    """The milestone's planned notices with their idempotency keys, those already queued aside."""
    contact = Contact(order.customer_email, order.customer_phone)
    keyed = [
        (notice, idempotency_key(order.order_number, notice, _ref(notice, shipment, delay)))
        for notice in plan(rules, milestone, prefs, contact)
    ]
    if not keyed or not check_taken:
        return keyed
    taken = set((await session.execute(_TAKEN_KEYS, {"keys": [key for _, key in keyed]})).scalars())
    return [(notice, key) for notice, key in keyed if key not in taken]


def _notice_row(
    order: Order,
    notice: PlannedNotice,
    key: str,
    event_seq: int,
    link: IssuedLink,
    facts: NoticeFacts,
    now: datetime,
    prefs: CustomerPrefs,
) -> Notification:
    """A pending outbox row for ``notice``, its content not yet rendered."""
    assert order.id is not None
    return Notification(
        order_id=order.id,
        idempotency_key=key,
        kind=notice.kind.value,
        channel=notice.channel.value,
        milestone=notice.milestone.value,
        event_seq=event_seq,
        portal_link_id=link.link.id,
        facts=facts.dumps(),
        recipient=notice.recipient,
        locale=order.locale,
        state=NotificationState.PENDING,
        body="",
        created_at=now,
        due_at=send_after(notice.channel, now, prefs),
    )
