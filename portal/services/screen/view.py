"""Everything the order screen shows, read in one go on a plain connection.

The customer-facing part is the tracking page's own :class:`OrderView` (same reader, same
partials); the staff-only parts are plain values: every notification with its exact content,
the share links and their use, the CRM log, and the order's call tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...models import Notification, ShareLink, table_of
from ...models_crm import Interaction
from ...models_screen import CallTask
from ..archive import redact_tokens
from ..views import _TIMELINE, OrderView, Reader, _order_view_by_number, _rows_on


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    kind: str
    channel: str
    recipient: str
    state: str
    attempts: int
    template_version: int | None
    subject: str
    body: str
    blocked_reason: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    resend_of: int | None

    @property
    def resendable(self) -> bool:
        """A notice that went out, or never will, may be sent again (a new row)."""
        return self.state in ("sent", "failed", "dead", "blocked", "superseded")


@dataclass(frozen=True, slots=True)
class LinkView:
    id: int
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    use_count: int
    last_used_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class InteractionView:
    id: int
    channel: str
    direction: str
    outcome: str
    action: str
    summary: str
    duration_s: int | None
    staff: str
    order_status: str | None
    order_eta: date | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CallView:
    id: int
    reason: str
    phone: str
    state: str
    attempts: int
    outcome: str | None
    due_at: datetime


@dataclass(frozen=True, slots=True)
class ScreenView:
    order: OrderView
    notifications: tuple[NotificationView, ...]  # newest first
    links: tuple[LinkView, ...]  # newest first
    interactions: tuple[InteractionView, ...]  # newest first
    calls: tuple[CallView, ...]  # open ones first, by due time

    @property
    def visits(self) -> int:
        return sum(link.use_count for link in self.links)

    @property
    def last_visit(self) -> datetime | None:
        seen = [link.last_used_at for link in self.links if link.last_used_at]
        return max(seen) if seen else None


NOTES, LINKS = table_of(Notification), table_of(ShareLink)
CRM, CALLS = table_of(Interaction), table_of(CallTask)
_ORDER_ID: sa.BindParameter[int] = sa.bindparam("order_id")
# Only what the screen shows: not the HTML copy, the facts, the dispatcher's lease columns
# (a row's HTML email alone can be larger than everything else in it).
_NOTE_COLUMNS = [
    "id",
    "kind",
    "channel",
    "recipient",
    "state",
    "attempts",
    "template_version",
    "subject",
    "body",
    "blocked_reason",
    "errors",
    "created_at",
    "sent_at",
    "resend_of",
]
_NOTIFICATIONS = (
    sa.select(*(NOTES.c[name] for name in _NOTE_COLUMNS))
    .where(NOTES.c.order_id == _ORDER_ID)
    .order_by(NOTES.c.id.desc())
)
_LINKS = (
    sa.select(LINKS)
    .where(LINKS.c.order_id == _ORDER_ID)
    .order_by(LINKS.c.created_at.desc(), LINKS.c.id.desc())
)
_INTERACTIONS = (
    sa.select(CRM)
    .where(CRM.c.order_id == _ORDER_ID)
    .order_by(CRM.c.occurred_at.desc(), CRM.c.id.desc())
)
_CALLS = (
    sa.select(CALLS)
    .where(CALLS.c.order_id == _ORDER_ID)
    .order_by((CALLS.c.state == "open").desc(), CALLS.c.due_at, CALLS.c.id)
)


# The reads a part of the screen needs besides the order's own rows (items, shipments, delays,
# feedback): a live frame for a doorbell that names its parts reads only those (a page visit
# rings for the links and the customer card: no timeline, no notices).
_NEEDS: dict[str, tuple[Any, ...]] = {
    "status": (_TIMELINE,),  # the delivery time
    "timeline": (_TIMELINE,),
    "notifications": (_NOTIFICATIONS, _LINKS),  # links: tokens shown as link ids
    "links": (_LINKS,),
    "customer": (_LINKS,),  # page visits
    "interactions": (_INTERACTIONS,),
    "calls": (_CALLS,),
    "delays": (),
    "shipments": (),
    "feedback": (),
}
_OPTIONAL = frozenset(stmt for stmts in _NEEDS.values() for stmt in stmts)


async def read_screen_view(
    connection: AsyncConnection, order_number: str, parts: frozenset[str] | None = None
) -> ScreenView | None:
    """The order screen's values, or None for an unknown order. With ``parts`` (the names of
    portal.web.screen.render.PARTS), only what those show is read: the rest is left empty,
    so such a view serves those parts only (a part not known here reads everything)."""
    skipped: frozenset[Any] = frozenset()
    if parts is not None and parts <= _NEEDS.keys():
        needed = {stmt for part in parts for stmt in _NEEDS[part]}
        skipped = _OPTIONAL - needed

    def read(sync: Any) -> ScreenView | None:
        rows = _rows_on(sync)
        if skipped:
            plain = rows
            rows = lambda stmt, **params: [] if stmt in skipped else plain(stmt, **params)  # noqa: E731
        return _screen_view(rows, order_number)

    return await connection.run_sync(read)


def _last_error(raw: str | None) -> str | None:
    errors: list[dict[str, Any]] = json.loads(raw or "[]")
    return str(errors[-1].get("error")) if errors else None


def _screen_view(rows: Reader, order_number: str) -> ScreenView | None:
    order = _order_view_by_number(rows, order_number)
    if order is None:
        return None
    by_order = {"order_id": order.id}
    links = rows(_LINKS, **by_order)
    # Notices are shown as sent, but a share-link token in them as the link's id: the screen
    # (often shared or screenshotted) must not open a customer's page.
    link_ids = {link.token_hash: link.id for link in links}
    return ScreenView(
        order=order,
        notifications=tuple(_notification(n, link_ids) for n in rows(_NOTIFICATIONS, **by_order)),
        links=tuple(_link(link) for link in links),
        interactions=tuple(_interaction(i) for i in rows(_INTERACTIONS, **by_order)),
        calls=tuple(
            CallView(c.id, c.reason, c.phone, c.state, c.attempts, c.outcome, c.due_at)
            for c in rows(_CALLS, **by_order)
        ),
    )


def _notification(n: sa.Row[Any], link_ids: dict[str, int]) -> NotificationView:
    return NotificationView(
        id=n.id,
        kind=n.kind,
        channel=n.channel,
        recipient=n.recipient,
        state=n.state,
        attempts=n.attempts,
        template_version=n.template_version,
        subject=redact_tokens(n.subject, link_ids),
        body=redact_tokens(n.body, link_ids),
        blocked_reason=n.blocked_reason,
        last_error=_last_error(n.errors),
        created_at=n.created_at,
        sent_at=n.sent_at,
        resend_of=n.resend_of,
    )


def _link(link: sa.Row[Any]) -> LinkView:
    return LinkView(
        id=link.id,
        created_at=link.created_at,
        created_by=link.created_by,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        use_count=link.use_count,
        last_used_at=link.last_used_at,
    )


def _interaction(i: sa.Row[Any]) -> InteractionView:
    return InteractionView(
        id=i.id,
        channel=i.channel,
        direction=i.direction,
        outcome=i.outcome,
        action=i.action,
        summary=i.summary,
        duration_s=i.duration_s,
        staff=i.staff,
        order_status=i.order_status,
        order_eta=i.order_eta,
        occurred_at=i.occurred_at,
    )
