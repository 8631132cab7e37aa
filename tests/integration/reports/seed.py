"""A hand-made period of orders, shipments, notices, delays and feedback with known figures.

Day B is five days before today; every figure the report should give for the ten days up to
today is written out in EXPECTED, worked out by hand from the rows below.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Delay, Feedback, Notification, Order, Shipment
from portal.models_inquiries import Inquiry
from portal.models_reports import ReviewClick

TODAY = datetime.now(UTC).date()
B = TODAY - timedelta(days=5)
PERIOD = (TODAY - timedelta(days=9), TODAY)


def at(day: date, hour: int = 12, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, 0, second), UTC)


@dataclass
class Seeder:
    session: AsyncSession

    async def order(
        self,
        *,
        promised: date | None,
        delivered: datetime | None,
        locale: str = "en",
        status: str | None = None,
    ) -> Order:
        now = at(B - timedelta(days=3))
        order = Order(
            order_number="R" + uuid.uuid4().hex[:8].upper(),
            status=status or ("delivered" if delivered else "in_transit"),
            customer_name="Ada",
            customer_email="ada@example.com",
            customer_email_norm="ada@example.com",
            locale=locale,
            promised_deliver_by=promised,
            created_at=now,
            updated_at=now,
            delivered_at=delivered,
        )
        self.session.add(order)
        await self.session.flush()
        return order

    async def shipment(
        self, order: Order, carrier: str, *, etas: tuple[date, ...] = ()
    ) -> Shipment:
        shipment = Shipment(
            order_id=order.id or 0,
            carrier=carrier,
            tracking_number=uuid.uuid4().hex[:12].upper(),
            status="delivered" if order.delivered_at else "in_transit",
            milestone="delivered" if order.delivered_at else "in_transit",
            estimated_delivery=etas[0] if etas else None,
            shipped_at=at(B - timedelta(days=2)),
            created_at=at(B - timedelta(days=2)),
            delivered_at=order.delivered_at,
        )
        self.session.add(shipment)
        await self.session.flush()
        for later in etas[1:]:
            # A later estimate, as a carrier webhook writes it: the first one is kept.
            await self.session.execute(
                update(Shipment)
                .where(Shipment.id == shipment.id)  # type: ignore[arg-type]
                .values(estimated_delivery=later)
            )
        return shipment

    async def notice(
        self,
        order: Order,
        kind: str,
        channel: str,
        *,
        created: datetime,
        state: str = "sent",
        after_s: int | None = None,
        version: int = 1,
    ) -> Notification:
        row = Notification(
            order_id=order.id or 0,
            idempotency_key=uuid.uuid4().hex,
            kind=kind,
            channel=channel,
            milestone="delivered" if kind == "delivery" else "shipped",
            event_seq=1,
            recipient="ada@example.com",
            locale=order.locale,
            state=state,
            template_version=version,
            body="text",
            created_at=created,
            due_at=created,
            sent_at=created + timedelta(seconds=after_s) if after_s is not None else None,
        )
        self.session.add(row)
        return row

    def delay(self, order: Order, reason: str, opened: datetime) -> None:
        self.session.add(
            Delay(order_id=order.id or 0, reason_code=reason, message="late", opened_at=opened)
        )

    def feedback(self, order: Order, rating: int) -> None:
        self.session.add(Feedback(order_id=order.id or 0, rating=rating, created_at=at(B)))

    def inquiry(
        self,
        order: Order | None,
        opened: datetime,
        states: tuple[str, str, str],
        minutes: float | None,
    ) -> None:
        first, following, resolution = states
        self.session.add(
            Inquiry(
                order_id=order.id if order else None,
                channel="web",
                state="open",
                priority="normal",
                created_at=opened,
                updated_at=opened,
                first_response_state=first,
                next_response_state=following,
                resolution_state=resolution,
                first_response_minutes=minutes,
            )
        )

    def click(self, order: Order) -> None:
        self.session.add(ReviewClick(order_id=order.id or 0, via="notice", clicked_at=at(B)))


async def seed_period(session: AsyncSession) -> dict[str, Order]:
    s = Seeder(session)
    o1 = await s.order(promised=B, delivered=at(B))  # ups, on time, estimate exact
    await s.shipment(o1, "ups", etas=(B,))
    o2 = await s.order(promised=B, delivered=at(B + timedelta(days=1)))  # ups, a day late
    await s.shipment(o2, "ups", etas=(B - timedelta(days=1), B + timedelta(days=1)))
    o3 = await s.order(promised=B + timedelta(days=2), delivered=at(B + timedelta(days=1)))
    await s.shipment(o3, "dhl", etas=(B + timedelta(days=2),))  # on time, estimate a day out
    o4 = await s.order(promised=B, delivered=None)  # dhl, still travelling
    await s.shipment(o4, "dhl", etas=(B,))
    o5 = await s.order(promised=B, delivered=at(B - timedelta(days=30)))  # before the period
    await s.shipment(o5, "dhl", etas=(B,))
    o6 = await s.order(promised=B + timedelta(days=5), delivered=at(B), locale="es-MX")
    await s.shipment(o6, "ups")  # on time, never estimated

    await s.notice(o1, "delivery", "email", created=at(B), after_s=10)
    await s.notice(o2, "delivery", "email", created=at(B), after_s=30)
    await s.notice(o3, "delivery", "email", created=at(B), after_s=20)
    await s.notice(o6, "delivery", "email", created=at(B), after_s=40, version=2)
    await s.notice(o4, "shipping", "sms", created=at(B), after_s=5)
    await s.notice(o4, "shipping", "sms", created=at(B), state="failed")
    await s.notice(o4, "shipping", "sms", created=at(B), state="dead")
    await s.notice(o4, "shipping", "email", created=at(B), state="pending")  # not counted
    await s.notice(o5, "delivery", "email", created=at(B - timedelta(days=30)), after_s=99)

    s.delay(o2, "weather", at(B))
    s.delay(o4, "weather", at(B + timedelta(days=1)))
    s.delay(o4, "customs", at(B + timedelta(days=2)))
    s.delay(o5, "weather", at(B - timedelta(days=30)))  # before the period

    s.feedback(o1, 5)
    s.feedback(o3, 3)
    s.feedback(o5, 1)  # its order was delivered before the period
    s.click(o2)

    # Inquiries: o1 asks an hour after its delivery notice, o4 an hour after its shipping SMS
    # (both within 48 h), o2 three days after its notice (not within); one without an order.
    s.inquiry(o1, at(B, hour=13), ("met", "pending", "met"), 30.0)
    s.inquiry(o2, at(B + timedelta(days=3)), ("breached", "pending", "breached"), 300.0)
    s.inquiry(o4, at(B, hour=13), ("met", "met", "pending"), 10.0)
    s.inquiry(None, at(B), ("pending", "pending", "pending"), None)
    s.inquiry(o5, at(B - timedelta(days=30)), ("met", "met", "met"), 5.0)  # before the period
    await session.flush()
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "o6": o6}


def _record(columns: tuple[str, ...], *values: Any) -> dict[str, Any]:
    return dict(zip(columns, values, strict=True))


_RESP = (
    "delivered_orders",
    "feedback",
    "review_clicks",
    "responses",
    "response_rate",
    "mean_rating",
)

_SLA = ("target", "inquiries", "met", "breached", "met_share", "median_minutes", "p90_minutes")
_ASKED = ("kind", "channel", "locale", "version", "orders_notified", "inquiries_48h")

EXPECTED: dict[str, list[dict[str, Any]]] = {
    # 4 inquiries opened in the period; first responses took 30, 300 and 10 business minutes:
    # sorted 10, 30, 300, the median is the 2nd (30) and the p90 the 3rd (300).
    "sla": [
        _record(_SLA, "first_response", 4, 2, 1, 0.6667, 30.0, 300.0),
        _record(_SLA, "next_response", 4, 1, 0, 1.0, None, None),
        _record(_SLA, "resolution", 4, 1, 1, 0.5, None, None),
    ],
    "inquiries_after_notice": [
        _record((*_ASKED, "inquiry_share"), "delivery", "email", "en", 1, 3, 1, 0.3333),
        _record((*_ASKED, "inquiry_share"), "delivery", "email", "es", 2, 1, 0, 0.0),
        _record((*_ASKED, "inquiry_share"), "shipping", "sms", "en", 1, 1, 1, 1.0),
    ],
    "notifications": [
        # delivery by email: 10, 20, 30, 40 s -> p50 is the 2nd (20), p95 the 4th (40)
        _record(
            ("kind", "channel", "sent", "failed", "dead", "p50_seconds", "p95_seconds"),
            "delivery",
            "email",
            4,
            0,
            0,
            20.0,
            40.0,
        ),
        _record(
            ("kind", "channel", "sent", "failed", "dead", "p50_seconds", "p95_seconds"),
            "shipping",
            "sms",
            1,
            1,
            1,
            5.0,
            5.0,
        ),
    ],
    "on_time_by_carrier": [
        _record(("carrier", "delivered", "on_time", "on_time_rate"), "dhl", 1, 1, 1.0),
        _record(("carrier", "delivered", "on_time", "on_time_rate"), "ups", 3, 2, 0.6667),
    ],
    "eta_accuracy_by_carrier": [
        # dhl: o3 off by 1 day; ups: o1 exact, o2 first said B-1, came B+1: 2 days
        _record(("carrier", "delivered", "mae_days", "exact_share"), "dhl", 1, 1.0, 0.0),
        _record(("carrier", "delivered", "mae_days", "exact_share"), "ups", 2, 1.0, 0.5),
    ],
    "delays_by_reason": [
        _record(("reason_code", "delays"), "weather", 2),
        _record(("reason_code", "delays"), "customs", 1),
    ],
    "feedback_by_carrier": [
        _record(("carrier", *_RESP), "dhl", 1, 1, 0, 1, 1.0, 3.0),
        # ups: o1 rated 5, o2 clicked the review link, o6 did neither
        _record(("carrier", *_RESP), "ups", 3, 1, 1, 2, 0.6667, 5.0),
    ],
    "feedback_by_template": [
        _record(("channel", "locale", "version", *_RESP), "email", "en", 1, 3, 2, 1, 3, 1.0, 4.0),
        # o6's locale es-MX resolves to the Spanish templates
        _record(("channel", "locale", "version", *_RESP), "email", "es", 2, 1, 0, 0, 0, 0.0, None),
    ],
}
