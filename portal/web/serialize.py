"""The API's JSON shapes, built from OrderView (one serialisation of an order)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..models import Shipment
from ..services.views import DelayView, EventView, OrderView, ShipmentView


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _t(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def shipment_json(s: ShipmentView) -> dict[str, Any]:
    return {
        "id": s.id,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "tracking_url": s.tracking_url,
        "status": s.status,
        "milestone": s.milestone,
        "reason_code": s.reason_code,
        "estimated_delivery": _d(s.estimated_delivery),
        "shipped_at": _t(s.shipped_at),
        "delivered_at": _t(s.delivered_at),
        "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in s.items],
    }


def shipment_row_json(
    s: Shipment, items: list[dict[str, Any]], tracking_url: str | None
) -> dict[str, Any]:
    return {
        "id": s.id,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "tracking_url": tracking_url,
        "status": s.status,
        "estimated_delivery": _d(s.estimated_delivery),
        "shipped_at": _t(s.shipped_at),
        "items": items,
    }


def delay_json(d: DelayView) -> dict[str, Any]:
    return {
        "id": d.id,
        "reason_code": d.reason_code,
        "message": d.message,
        "previous_estimated_delivery": _d(d.previous_eta),
        "new_estimated_delivery": _d(d.new_eta),
        "compensation": d.compensation,
        "alternatives": list(d.alternatives),
        "customer_choice": d.customer_choice,
        "state": d.state,
        "opened_at": _t(d.opened_at),
        "resolved_at": _t(d.resolved_at),
    }


def event_json(e: EventView) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "kind": e.kind,
        "status": e.status,
        "occurred_at": _t(e.occurred_at),
        "recorded_at": _t(e.recorded_at),
        "message": e.message,
        "location": e.location,
        "reason_code": e.reason_code,
        "shipment_id": e.shipment_id,
        "applied": e.applied,
    }


def order_json(view: OrderView, tracking_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_number": view.order_number,
        "status": view.status,
        "customer": {
            "name": view.customer_name,
            "email": view.customer_email,
            "phone": view.customer_phone,
            "locale": view.locale,
            "timezone": view.timezone,
        },
        "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in view.items],
        "promised_ship_by": _d(view.promised_ship_by),
        "promised_deliver_by": _d(view.promised_deliver_by),
        "estimated_delivery": _d(view.estimated_delivery),
        "created_at": _t(view.created_at),
        "shipments": [shipment_json(s) for s in view.shipments],
        "delays": [delay_json(d) for d in view.delays],
        "events": [event_json(e) for e in sorted(view.events, key=lambda e: e.seq)],
        "feedback": (
            {
                "rating": view.feedback.rating,
                "comment": view.feedback.comment,
                "created_at": _t(view.feedback.created_at),
            }
            if view.feedback
            else None
        ),
    }
    if tracking_url is not None:
        body["tracking_url"] = tracking_url
    return body
