"""Order views of several orders read together: one set of statements for the lot.

A reconnect storm brings the sockets of many orders at once, and each order's snapshot costs
five to eight statements (:func:`portal.services.views.read_order_view_by_number`), whose
overhead (not the index lookups) is the cost. Here each of those statements runs once for
every order of the batch, its ``order_id = :order_id`` (or ``order_number = :number``) made an
``IN`` over the batch, and the rows are handed out per order to the very code that builds one
view (:func:`portal.services.views._order_view`), so a view read in a batch is the view read
alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from .views import _ORDER_BY_NUMBER, OrderView, _order_view

_KEY = "batch_key"  # the column added to a batched statement: whose row it is


def _batched(stmt: sa.Select[Any], param: str) -> sa.Select[Any]:
    """``stmt`` with its ``column = :param`` made ``column IN (:param, ...)``, and that column
    added to its rows as ``batch_key``."""
    keyed: list[Any] = []
    many: BindParameter[Any] = sa.bindparam(param, expanding=True)

    def replace(element: Any, **_: Any) -> Any:
        if (
            isinstance(element, BinaryExpression)
            and element.operator is operators.eq
            and isinstance(element.right, BindParameter)
            and element.right.key == param
        ):
            keyed.append(element.left)
            return element.left.in_(many)
        return None

    batched = replacement_traverse(stmt, {}, replace)
    if len(keyed) != 1 or not isinstance(batched, sa.Select):
        raise ValueError(f"expected one '= :{param}' in the statement, found {len(keyed)}")
    return batched.add_columns(keyed[0].label(_KEY))


_ORDERS_BY_NUMBERS = _batched(_ORDER_BY_NUMBER, "number")
_BATCHED: dict[Any, sa.Select[Any]] = {}  # per-order statement -> its batched form, built once


class _BatchRows:
    """A :data:`portal.services.views.Reader` for the orders of one batch: the first ask for a
    statement reads it for every order of the batch; each ask returns its order's rows."""

    def __init__(self, connection: sa.Connection, order_ids: list[int]) -> None:
        self._connection = connection
        self._order_ids = order_ids
        self._read: dict[Any, dict[int, list[sa.Row[Any]]]] = {}
        self.statements = 0

    def __call__(self, stmt: Any, **params: Any) -> Sequence[sa.Row[Any]]:
        grouped = self._read.get(stmt)
        if grouped is None:
            batched = _BATCHED.get(stmt)
            if batched is None:
                batched = _BATCHED[stmt] = _batched(stmt, "order_id")
            grouped = {}
            for row in self._connection.execute(batched, {"order_id": self._order_ids}):
                grouped.setdefault(getattr(row, _KEY), []).append(row)
            self._read[stmt] = grouped
            self.statements += 1
        return grouped.get(params["order_id"], ())


def _order_views_by_numbers(connection: sa.Connection, numbers: list[str]) -> dict[str, OrderView]:
    orders = connection.execute(_ORDERS_BY_NUMBERS, {"number": numbers}).all()
    rows = _BatchRows(connection, [order.id for order in orders])
    return {order.order_number: _order_view(rows, order) for order in orders}


async def read_order_views_by_numbers(
    connection: AsyncConnection, numbers: list[str]
) -> dict[str, OrderView]:
    """The views of the orders numbered ``numbers`` (unknown ones left out), each as
    :func:`portal.services.views.read_order_view_by_number` reads it, in one set of statements."""
    if not numbers:
        return {}
    return await connection.run_sync(lambda sync: _order_views_by_numbers(sync, numbers))
