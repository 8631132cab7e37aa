"""Writes ``receipt_tracking``: the tracking numbers each webhook receipt is about.

Every place that stores a receipt or changes its outcome or numbers calls ``link`` (a new
receipt) or ``relink`` (a changed one) in the same transaction, so the archive finds a
receipt by an indexed lookup instead of scanning bodies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.receipt_numbers import receipt_numbers
from ..models import ReceiptTracking, table_of

RECEIPT_TRACKING = table_of(ReceiptTracking)
_INSERT = insert(RECEIPT_TRACKING)


async def link(
    session: AsyncSession, receipt_id: int, outcome: str, tracking_numbers: str, body: str
) -> None:
    """Record the numbers of a receipt just stored."""
    numbers = receipt_numbers(outcome, tracking_numbers, body)
    if numbers:
        await session.execute(
            _INSERT, [{"receipt_id": receipt_id, "tracking_number": n} for n in numbers]
        )


async def relink(
    session: AsyncSession, receipt_id: int, outcome: str, tracking_numbers: str, body: str
) -> None:
    """Replace the numbers of a receipt whose outcome or numbers changed."""
    await session.execute(
        delete(RECEIPT_TRACKING).where(RECEIPT_TRACKING.c.receipt_id == receipt_id)
    )
    await link(session, receipt_id, outcome, tracking_numbers, body)


def receipts_about(tracking_number: str) -> Any:
    """A subquery: the ids of the receipts about ``tracking_number`` (an index lookup)."""
    return select(RECEIPT_TRACKING.c.receipt_id).where(
        RECEIPT_TRACKING.c.tracking_number == tracking_number
    )
