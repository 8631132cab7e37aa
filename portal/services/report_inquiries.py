"""The report's inquiry figures: SLA met shares, first-response times, inquiries after a notice.

Inquiries are recorded by the inquiries feature; until its tables exist these figures are
reported as unavailable (with the reason) rather than as zeros.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.report import Section

INQUIRIES_RECORDED = False
UNAVAILABLE = "inquiries are not recorded by this portal yet"


def inquiry_figures(dialect: str, order_id: Any, sent_at: Any, window: timedelta) -> Any | None:
    """Per notice row: how many of its order's inquiries opened within `window` after it."""
    return None


async def sla_section(session: AsyncSession, bounds: tuple[datetime, datetime] | None) -> Section:
    """SLA met share per target and first-response median and p90 in business minutes."""
    return Section(
        "sla",
        "SLA: met share per target, first response in business minutes",
        ("target",),
        ("inquiries", "met", "breached", "met_share", "median_minutes", "p90_minutes"),
        unavailable=UNAVAILABLE,
    )
