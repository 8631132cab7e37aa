"""What a notice about an order may say, and the facts it states for the accuracy gate.

Used by the outbox when it queues a milestone's notices, by inquiry replies and by template
previews alike (portal.services.outbox re-exports these names).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.links import carrier_name, tracking_url

from ..models import Delay, Order, OrderItem, Shipment
from ..notify.kinds import NotificationKind
from ..notify.templates import NoticeContext
from ..settings import Settings
from .review import ReviewVia, review_link


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
    items: Sequence[tuple[str, int]] | None = None,
) -> tuple[NoticeContext, NoticeFacts]:
    """What a notice about ``order`` may say (its template's fields) and what it states (the
    facts the accuracy gate checks): the notice's share link is ``link_path`` (``/t/...``), and
    ``shipment`` and ``delay`` are the records the notice is about, if any. Used by the outbox,
    inquiry replies and template previews alike. ``items`` (name, quantity), when the caller has
    read them already, are not read again."""
    portal_url = settings.url(link_path)
    if items is None:
        rows = await session.execute(_ITEM_LINES, {"order_id": order.id})
        items = [(name, quantity) for name, quantity in rows.all()]
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
        items=tuple(items),
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


_ITEM_LINES = (
    select(col(OrderItem.name), col(OrderItem.quantity))
    .where(col(OrderItem.order_id) == bindparam("order_id"))
    .order_by(col(OrderItem.position))
)


def stated_eta(kind: NotificationKind, ctx: NoticeContext) -> date | None:
    """The delivery date a notice of `kind` tells the customer, which the gate checks."""
    if kind is NotificationKind.DELIVERY:
        return None  # it announces the delivery itself, not a date
    if kind is NotificationKind.DELAY:
        return ctx.new_estimated_delivery
    if kind is NotificationKind.ORDER_CONFIRMATION:
        return ctx.promised_deliver_by
    return ctx.estimated_delivery
