"""Order search over the trigram-indexed ``order_search`` table (migration 0006).

One query per page of results on the index, newest order first, then one to load the page's
orders and their tracking numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.search import SearchQuery, encode_cursor
from ..models import Order, Shipment


@dataclass(frozen=True, slots=True)
class OrderHit:
    """One search result: what a list of orders shows."""

    order_number: str
    status: str
    customer_name: str
    customer_email: str
    customer_phone: str | None
    estimated_delivery: date | None
    created_at: datetime
    tracking_numbers: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "order_number": self.order_number,
            "status": self.status,
            "customer": {
                "name": self.customer_name,
                "email": self.customer_email,
                "phone": self.customer_phone,
            },
            "estimated_delivery": (
                self.estimated_delivery.isoformat() if self.estimated_delivery else None
            ),
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "tracking_numbers": list(self.tracking_numbers),
        }


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[OrderHit]
    next_cursor: str | None


# The search table is made by migration 0006 (an FTS5 table on SQLite), not by the metadata.
_SEARCH = sa.table("order_search", sa.column("rowid"), sa.column("order_id"), sa.column("body"))


def _id_query(query: SearchQuery, dialect: str, before: int | None, limit: int) -> Any:
    ident = _SEARCH.c.rowid if dialect == "sqlite" else _SEARCH.c.order_id
    # On PostgreSQL, ordering by the bare key lets the planner walk the primary key backwards
    # and filter every row (a full scan for a rare match); ``+ 0`` keeps it on the trigram
    # index, then sorts the few matches.
    order_key = ident if dialect == "sqlite" else ident + 0
    stmt = sa.select(ident).order_by(order_key.desc()).limit(limit + 1)
    if before is not None:
        stmt = stmt.where(ident < before)
    if dialect == "sqlite" and query.indexed:
        return stmt.where(sa.literal_column("order_search").op("MATCH")(query.fts_match()))
    body = _SEARCH.c.body
    matches = [
        body.like(p, escape="\\") if dialect == "sqlite" else body.ilike(p, escape="\\")
        for p in query.like_patterns()
    ]
    return stmt.where(sa.or_(*matches))


async def search_orders(
    session: AsyncSession, query: SearchQuery, *, limit: int, before: int | None = None
) -> SearchPage:
    """A page of the orders matching ``query``, newest first, continuing below ``before``."""
    dialect = session.get_bind().dialect.name
    ids = [int(r[0]) for r in (await session.execute(_id_query(query, dialect, before, limit)))]
    more = len(ids) > limit
    ids = ids[:limit]
    if not ids:
        return SearchPage([], None)
    orders = {
        o.id: o
        for o in (await session.execute(select(Order).where(col(Order.id).in_(ids)))).scalars()
    }
    tracking: dict[int, list[str]] = {}
    shipments = await session.execute(
        select(col(Shipment.order_id), col(Shipment.tracking_number))
        .where(col(Shipment.order_id).in_(ids))
        .order_by(col(Shipment.id))
    )
    for order_id, number in shipments:
        tracking.setdefault(order_id, []).append(number)
    hits = [_hit(orders[i], tracking.get(i, [])) for i in ids if i in orders]
    return SearchPage(hits, encode_cursor(ids[-1]) if more else None)


def _hit(order: Order, tracking: list[str]) -> OrderHit:
    return OrderHit(
        order_number=order.order_number,
        status=order.status,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        customer_phone=order.customer_phone,
        estimated_delivery=order.estimated_delivery,
        created_at=order.created_at,
        tracking_numbers=tuple(tracking),
    )
