"""The report's inquiry figures: SLA met shares, first-response times, inquiries after a notice.

Aggregate statements over the inquiries the inquiries feature records (portal.models_inquiries):
its SLA clock keeps each target's final state (met or breached) and the business minutes to
the first reply (`first_response_minutes`), which SQL could not compute from the calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.inquiries import SlaTarget, TargetState
from ..domain.report import Section
from ..domain.report import sla_section as build_sla_section
from ..models import table_of
from ..models_inquiries import Inquiry
from .sql_time import count_if, nearest_rank_value, seconds_between, within

INQ = table_of(Inquiry)

PERCENTILES = (50, 90)

Bounds = tuple[datetime, datetime] | None


def inquiry_figures(dialect: str, order_id: Any, sent_at: Any, window: timedelta) -> Any:
    """Whether the order's customer opened an inquiry within `window` after `sent_at`."""
    elapsed = seconds_between(dialect, sent_at, INQ.c.created_at)
    return (
        sa.exists()
        .where(INQ.c.order_id == order_id, elapsed.between(0, window.total_seconds()))
        .correlate_except(INQ)
    )


async def _first_response_percentiles(session: AsyncSession, bounds: Bounds) -> tuple[Any, Any]:
    minutes = INQ.c.first_response_minutes
    ranked = (
        sa.select(
            minutes.label("m"),
            sa.func.row_number().over(order_by=minutes).label("rn"),
            sa.func.count().over().label("n"),
        )
        .where(within(INQ.c.created_at, bounds), minutes.is_not(None))
        .subquery()
    )
    query = sa.select(
        *(nearest_rank_value(p, ranked.c.rn, ranked.c.n, ranked.c.m) for p in PERCENTILES)
    )
    row = (await session.execute(query)).one()
    return row[0], row[1]


async def sla_section(session: AsyncSession, bounds: Bounds) -> Section:
    """SLA met share per target, and first-response median and p90 in business minutes."""
    counts: list[Any] = [sa.func.count()]
    for target in SlaTarget:
        state = INQ.c[f"{target.value}_state"]
        counts += [
            count_if(state == TargetState.MET.value),
            count_if(state == TargetState.BREACHED.value),
        ]
    row = (await session.execute(sa.select(*counts).where(within(INQ.c.created_at, bounds)))).one()
    opened = int(row[0])
    per_target = [
        (target.value, int(row[1 + 2 * i]), int(row[2 + 2 * i]))
        for i, target in enumerate(SlaTarget)
    ]
    median, p90 = await _first_response_percentiles(session, bounds)
    return build_sla_section(opened, per_target, first_response=(median, p90))
