"""API for the shop's CRM: order search and the interactions log (DESIGN.md API additions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..domain.interactions import InteractionAction
from ..domain.search import SearchError, decode_cursor, parse_limit, parse_query
from ..errors import ValidationFailed
from ..models import Order, StaffUser
from ..schemas_crm import InteractionCreate
from ..services.interactions import (
    InteractionEntry,
    interaction_json,
    interactions_of,
    record_interaction,
)
from ..services.search import SearchPage, search_orders
from ..services.timeline import UnitOfWork, lock_order
from .api import _find, read_json
from .auth import require_api_key
from .idempotency import run_write

# A contact logged as happening later than this ahead of the server's clock is refused.
FUTURE_SLACK = timedelta(minutes=5)


async def run_search(request: Request) -> SearchPage | None:
    """The search a request's ``q``, ``limit`` and ``cursor`` ask for (None: no query)."""
    params = request.query_params
    try:
        query = parse_query(params.get("q"))
        limit = parse_limit(params.get("limit"))
        before = decode_cursor(params.get("cursor"))
    except SearchError as exc:
        raise ValidationFailed(str(exc)) from None
    if query is None:
        return None
    async with request.app.state.runtime.db.read() as session:
        return await search_orders(session, query, limit=limit, before=before)


async def search(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    found = await run_search(request)
    if found is None:
        raise ValidationFailed("give the text to search for as ?q=")
    return JSONResponse(
        {"orders": [hit.as_json() for hit in found.hits], "next_cursor": found.next_cursor}
    )


async def list_interactions(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    async with request.app.state.runtime.db.read() as session:
        order = await _find(session, request.path_params["order_number"])
        rows = await interactions_of(session, order.id or 0)
    return JSONResponse({"interactions": [interaction_json(r, order.order_number) for r in rows]})


async def _staff_user(session: AsyncSession, email: str) -> StaffUser:
    user = (
        await session.execute(select(StaffUser).where(col(StaffUser.email) == email))
    ).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"there is no staff user {email!r}")
    return user


async def log_interaction(request: Request) -> Response:
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InteractionCreate)
    runtime = request.app.state.runtime
    now = runtime.clock()
    if data.occurred_at is not None and data.occurred_at > now + FUTURE_SLACK:
        raise ValidationFailed("occurred_at is in the future")

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        order: Order = await lock_order(session, request.path_params["order_number"])
        user = await _staff_user(session, data.staff) if data.staff else None
        entry = InteractionEntry(
            channel=data.channel,
            direction=data.direction,
            outcome=data.outcome,
            summary=data.summary,
            staff=user.email if user else f"api:{key.name}",
            action=InteractionAction.LOGGED,
            duration_s=data.duration_s,
            staff_user_id=user.id if user else None,
            inquiry_id=data.inquiry_id,
            occurred_at=data.occurred(now),
        )
        row = record_interaction(session, order, entry, now=now)
        await session.flush()
        return 201, interaction_json(row, order.order_number)

    return await run_write(request, key, body, handler)


routes = [
    Route("/api/v1/orders", search, methods=["GET"]),
    Route("/api/v1/orders/{order_number}/interactions", list_interactions, methods=["GET"]),
    Route("/api/v1/orders/{order_number}/interactions", log_interaction, methods=["POST"]),
]
