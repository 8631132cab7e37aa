"""Order API v1 for the shop's order system (DESIGN.md, Public contract)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import NotFound, ValidationFailed
from ..models import Notification, Order
from ..schemas import DelayCreate, LinkCreate, OrderCreate, ShipmentCreate, StatusChange
from ..services import orders as order_service
from ..services.links import issue_link
from ..services.order_lock import OrderParts, lock_order_with_parts
from ..services.timeline import UnitOfWork, lock_order
from ..services.views import load_order_view, placed_order_view
from ..settings import Settings
from .auth import require_api_key
from .body import read_body
from .errors import from_validation_error
from .idempotency import run_write
from .openapi import openapi_document
from .serialize import delay_json, order_json, shipment_json

Model = TypeVar("Model", bound=BaseModel)
MAX_BODY = 256 * 1024


async def read_json(
    request: Request, model: type[Model], *, optional: bool = False
) -> tuple[Model, bytes]:
    """Parse the body into `model`, or raise a clear 4xx naming what is wrong."""
    body = await read_body(request, limit=MAX_BODY, allow_empty=optional)
    if not body.strip() and optional:
        return model.model_validate({}), body
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValidationFailed("the body is not JSON we accept: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ValidationFailed("the body must be a JSON object")
    try:
        return model.model_validate(raw), body
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _source(key_name: str) -> str:
    return f"api:{key_name}"


async def create_order(request: Request) -> Response:
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, OrderCreate)
    runtime = request.app.state.runtime

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        placed = await order_service.place_order(
            session, uow, data, now=runtime.clock(), source=_source(key.name)
        )
        view = placed_order_view(placed.order, placed.parts, placed.events)
        return 201, order_json(view, tracking_url=runtime.settings.url(placed.link.path()))

    return await run_write(request, key, body, handler)


async def get_order(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        order = await _find(session, request.path_params["order_number"])
        view = await load_order_view(session, order)
    return JSONResponse(order_json(view))


async def _find(session: AsyncSession, number: str) -> Order:
    order = (
        await session.execute(select(Order).where(col(Order.order_number) == number))
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"no order {number!r}")
    return order


@dataclass(frozen=True, slots=True)
class Change:
    """One API change to an existing order, inside its write transaction (order row locked)."""

    session: AsyncSession
    uow: UnitOfWork
    order: Order
    now: datetime
    source: str
    settings: Settings
    runtime: Any

    # What the lock read beside the order, for the actions that ask for it (with_parts).
    parts: OrderParts | None = None


OrderAction = Callable[[Change, Model], Awaitable[tuple[int, dict[str, Any]]]]


async def _order_change(
    request: Request,
    model: type[Model],
    action: OrderAction[Model],
    *,
    optional: bool = False,
    with_parts: bool = False,
) -> Response:
    """Authenticate, parse, lock the order, run `action`, commit (idempotently), publish.

    ``with_parts``: the lock also reads the order's items and which parts it has
    (portal.services.order_lock), for an action that answers with the whole order."""
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, model, optional=optional)
    runtime = request.app.state.runtime

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        number = request.path_params["order_number"]
        parts = None
        if with_parts:
            locked = await lock_order_with_parts(session, number)
            order, parts = locked.order, locked.parts
        else:
            order = await lock_order(session, number)
        change = Change(
            session,
            uow,
            order,
            runtime.clock(),
            _source(key.name),
            runtime.settings,
            runtime,
            parts,
        )
        return await action(change, data)

    return await run_write(request, key, body, handler)


async def _set_status(c: Change, data: StatusChange) -> tuple[int, dict[str, Any]]:
    changed = await order_service.change_status(
        c.session, c.uow, c.order, data, now=c.now, source=c.source, parts=c.parts
    )
    payload = order_json(await load_order_view(c.session, c.order, c.parts))
    payload["changed"] = changed
    return 200, payload


async def _add_shipment(c: Change, data: ShipmentCreate) -> tuple[int, dict[str, Any]]:
    shipment = await order_service.add_shipment(
        c.session, c.uow, c.order, data, now=c.now, source=c.source
    )
    await c.runtime.on_shipment_registered(c.session, c.uow, c.order, shipment)
    view = await load_order_view(c.session, c.order)
    payload = shipment_json(next(s for s in view.shipments if s.id == shipment.id))
    payload["order_status"] = view.status
    return 201, payload


async def _open_delay(c: Change, data: DelayCreate) -> tuple[int, dict[str, Any]]:
    delay = await order_service.open_delay(
        c.session, c.uow, c.order, data, now=c.now, source=c.source
    )
    view = await load_order_view(c.session, c.order)
    return 201, delay_json(next(d for d in view.delays if d.id == delay.id))


async def _create_link(c: Change, data: LinkCreate) -> tuple[int, dict[str, Any]]:
    issued = issue_link(
        c.session, c.order, now=c.now, expires_in_days=data.expires_in_days, created_by=c.source
    )
    await c.session.flush()
    expires = issued.link.expires_at
    return 201, {
        "id": issued.link.id,
        "url": c.settings.url(issued.path()),
        "expires_at": expires.isoformat().replace("+00:00", "Z") if expires else None,
    }


async def change_status(request: Request) -> Response:
    return await _order_change(request, StatusChange, _set_status, with_parts=True)


async def add_shipment(request: Request) -> Response:
    return await _order_change(request, ShipmentCreate, _add_shipment)


async def open_delay(request: Request) -> Response:
    return await _order_change(request, DelayCreate, _open_delay)


async def create_link(request: Request) -> Response:
    return await _order_change(request, LinkCreate, _create_link, optional=True)


async def list_notifications(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        order = await _find(session, request.path_params["order_number"])
        rows = (
            await session.execute(
                select(Notification)
                .where(col(Notification.order_id) == order.id)
                .order_by(col(Notification.id))
            )
        ).scalars()
        items = [notification_json(n) for n in rows]
    return JSONResponse({"notifications": items})


def notification_json(n: Notification) -> dict[str, Any]:
    def t(value: Any) -> Any:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": n.id,
        "kind": n.kind,
        "channel": n.channel,
        "recipient": n.recipient,
        "state": n.state,
        "milestone": n.milestone,
        "event_seq": n.event_seq,
        "template_version": n.template_version,
        "subject": n.subject,
        "body": n.body,
        "attempts": n.attempts,
        "errors": json.loads(n.errors or "[]"),
        "blocked_reason": n.blocked_reason,
        "provider_id": n.provider_id,
        "created_at": t(n.created_at),
        "due_at": t(n.due_at),
        "sent_at": t(n.sent_at),
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.state.runtime.settings.base_url))


routes = [
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/orders", create_order, methods=["POST"]),
    Route("/api/v1/orders/{order_number}", get_order, methods=["GET"]),
    Route("/api/v1/orders/{order_number}/status", change_status, methods=["POST"]),
    Route("/api/v1/orders/{order_number}/shipments", add_shipment, methods=["POST"]),
    Route("/api/v1/orders/{order_number}/delays", open_delay, methods=["POST"]),
    Route("/api/v1/orders/{order_number}/links", create_link, methods=["POST"]),
    Route("/api/v1/orders/{order_number}/notifications", list_notifications, methods=["GET"]),
]
