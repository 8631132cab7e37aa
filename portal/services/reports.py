"""The review report: each figure one aggregate statement, run in the database.

No rows are looped over in Python: every statement groups and counts in SQL and returns one
row per group. portal.domain.kpis defines the figures; portal.domain.report shapes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from carriers.status import ShipmentStatus

from ..domain.kpis import INQUIRY_WINDOW, Period
from ..domain.report import (
    Report,
    VersionFigures,
    delay_section,
    eta_section,
    feedback_carrier_section,
    feedback_template_section,
    inquiry_template_section,
    notification_section,
    on_time_section,
)
from ..models import Delay, Feedback, Notification, Order, Shipment, TemplateVersion, table_of
from ..models_reports import ReviewClick, ShipmentEstimate
from ..notify.kinds import NotificationState
from ..notify.locales import SHIPPED_LOCALES, resolve_locale
from .report_inquiries import inquiry_figures, sla_section
from .sql_time import (
    count_if,
    days_between,
    local_date,
    nearest_rank_value,
    seconds_between,
    within,
)

N = table_of(Notification)
ORD = table_of(Order)
S = table_of(Shipment)
D = table_of(Delay)
F = table_of(Feedback)
E = table_of(ShipmentEstimate)
C = table_of(ReviewClick)
TV = table_of(TemplateVersion)

# The outcomes a notification report counts: sent, or given up on (failed and retrying, dead).
SENT = NotificationState.SENT.value
OUTCOMES = (SENT, NotificationState.FAILED.value, NotificationState.DEAD.value)
PERCENTILES = (50, 95)

Bounds = tuple[datetime, datetime] | None


async def notification_rows(
    session: AsyncSession, bounds: Bounds
) -> tuple[list[Any], dict[tuple[str, str], tuple[Any, Any]]]:
    """(kind, channel, sent, failed, dead) and the change-to-send percentiles of sent ones."""
    counts = (
        sa.select(
            N.c.kind,
            N.c.channel,
            *(count_if(N.c.state == state) for state in OUTCOMES),
        )
        .where(within(N.c.created_at, bounds), N.c.state.in_(OUTCOMES))
        .group_by(N.c.kind, N.c.channel)
    )
    dialect = session.get_bind().dialect.name
    delta = seconds_between(dialect, N.c.created_at, N.c.sent_at).label("delta")
    partition = (N.c.kind, N.c.channel)
    ranked = (
        sa.select(
            N.c.kind,
            N.c.channel,
            delta,
            sa.func.row_number().over(partition_by=partition, order_by=delta).label("rn"),
            sa.func.count().over(partition_by=partition).label("n"),
        )
        .where(within(N.c.created_at, bounds), N.c.state == SENT, N.c.sent_at.is_not(None))
        .subquery()
    )
    latency = sa.select(
        ranked.c.kind,
        ranked.c.channel,
        *(nearest_rank_value(p, ranked.c.rn, ranked.c.n, ranked.c.delta) for p in PERCENTILES),
    ).group_by(ranked.c.kind, ranked.c.channel)
    count_rows = list((await session.execute(counts)).all())
    latencies = {
        (kind, channel): (p50, p95)
        for kind, channel, p50, p95 in (await session.execute(latency)).all()
    }
    return count_rows, latencies


def _delivered_shipments(bounds: Bounds) -> Any:
    return sa.and_(S.c.delivered_at.is_not(None), within(S.c.delivered_at, bounds))


async def on_time_rows(session: AsyncSession, bounds: Bounds, zone: str) -> list[Any]:
    """(carrier, delivered, on_time): shipments delivered in the period, against the promise."""
    dialect = session.get_bind().dialect.name
    delivered_on = local_date(dialect, S.c.delivered_at, zone)
    query = (
        sa.select(
            S.c.carrier,
            sa.func.count(),
            count_if(delivered_on <= ORD.c.promised_deliver_by),
        )
        .select_from(S.join(ORD, ORD.c.id == S.c.order_id))
        .where(_delivered_shipments(bounds), ORD.c.promised_deliver_by.is_not(None))
        .group_by(S.c.carrier)
    )
    return list((await session.execute(query)).all())


async def eta_rows(session: AsyncSession, bounds: Bounds, zone: str) -> list[Any]:
    """(carrier, delivered, error_days_sum, exact): first estimate against the delivery date."""
    dialect = session.get_bind().dialect.name
    error = days_between(
        dialect, E.c.first_estimated_delivery, local_date(dialect, S.c.delivered_at, zone)
    )
    query = (
        sa.select(
            S.c.carrier,
            sa.func.count(),
            sa.func.sum(sa.func.abs(error)),
            count_if(error == 0),
        )
        .select_from(S.join(E, E.c.shipment_id == S.c.id))
        .where(_delivered_shipments(bounds))
        .group_by(S.c.carrier)
    )
    return list((await session.execute(query)).all())


async def delay_rows(session: AsyncSession, bounds: Bounds) -> list[Any]:
    query = (
        sa.select(D.c.reason_code, sa.func.count())
        .where(within(D.c.opened_at, bounds))
        .group_by(D.c.reason_code)
    )
    return list((await session.execute(query)).all())


def _clicked(order_id: Any) -> Any:
    return sa.exists().where(C.c.order_id == order_id)


def _response_figures(order_id: Any) -> tuple[Any, ...]:
    """count of orders, feedback, rating sum, review clicks, responses (feedback or a click)."""
    return (
        sa.func.count(),
        sa.func.count(F.c.id),
        sa.func.sum(F.c.rating),
        count_if(_clicked(order_id)),
        count_if(sa.or_(F.c.id.is_not(None), _clicked(order_id))),
    )


async def feedback_carrier_rows(session: AsyncSession, bounds: Bounds) -> list[Any]:
    """Per carrier: orders delivered in the period that it carried, and their responses."""
    carried = (
        sa.select(S.c.order_id, S.c.carrier)
        .where(S.c.status != ShipmentStatus.CANCELLED.value)
        .distinct()
        .subquery()
    )
    query = (
        sa.select(carried.c.carrier, *_response_figures(ORD.c.id))
        .select_from(
            carried.join(ORD, ORD.c.id == carried.c.order_id).outerjoin(F, F.c.order_id == ORD.c.id)
        )
        .where(ORD.c.delivered_at.is_not(None), within(ORD.c.delivered_at, bounds))
        .group_by(carried.c.carrier)
    )
    return list((await session.execute(query)).all())


async def _locale_case(session: AsyncSession) -> Any:
    """The template locale each stored notification locale resolves to, as a SQL CASE."""
    available = set(SHIPPED_LOCALES) | set(
        (await session.execute(sa.select(TV.c.locale).distinct())).scalars()
    )
    tags = (await session.execute(sa.select(N.c.locale).distinct())).scalars()
    mapping = {tag: resolve_locale(tag, available) for tag in tags}
    if not mapping:
        return N.c.locale
    return sa.case(mapping, value=N.c.locale, else_=N.c.locale)


async def _received(session: AsyncSession, bounds: Bounds) -> Any:
    """Per notice version and order: when the order first got it and how many it got."""
    locale = (await _locale_case(session)).label("locale")
    return (
        sa.select(
            N.c.kind,
            N.c.channel,
            locale,
            N.c.template_version.label("version"),
            N.c.order_id,
            sa.func.min(N.c.sent_at).label("first_sent"),
            sa.func.count().label("sent"),
        )
        .where(
            N.c.state == SENT,
            N.c.template_version.is_not(None),
            N.c.sent_at.is_not(None),
            within(N.c.sent_at, bounds),
        )
        .group_by(N.c.kind, N.c.channel, locale, N.c.template_version, N.c.order_id)
        .subquery()
    )


def _version_row(row: Any) -> VersionFigures:
    kind, channel, locale, version, sent, orders, feedback, rating_sum = row[:8]
    clicks, responses, delivered, delivered_on_time, inquiry_count = row[8:]
    return VersionFigures(
        kind=kind,
        channel=channel,
        locale=locale,
        version=int(version),
        sent=int(sent),
        orders=int(orders),
        delivered=int(delivered),
        delivered_on_time=int(delivered_on_time),
        feedback=int(feedback),
        rating_sum=None if rating_sum is None else float(rating_sum),
        clicks=int(clicks),
        responses=int(responses),
        inquiries_48h=int(inquiry_count),
    )


async def version_figures(session: AsyncSession, bounds: Bounds, zone: str) -> list[VersionFigures]:
    """Per kind, channel, locale and template version of notices sent: what followed them."""
    dialect = session.get_bind().dialect.name
    received = await _received(session, bounds)
    r = received.c
    after = sa.and_(ORD.c.delivered_at.is_not(None), ORD.c.delivered_at >= r.first_sent)
    on_time = sa.and_(
        after, local_date(dialect, ORD.c.delivered_at, zone) <= ORD.c.promised_deliver_by
    )
    inquiries = inquiry_figures(dialect, r.order_id, r.first_sent, INQUIRY_WINDOW)
    query = (
        sa.select(
            r.kind,
            r.channel,
            r.locale,
            r.version,
            sa.func.sum(r.sent),
            *_response_figures(r.order_id),
            count_if(after),
            count_if(on_time),
            count_if(inquiries),
        )
        .select_from(
            received.join(ORD, ORD.c.id == r.order_id).outerjoin(F, F.c.order_id == r.order_id)
        )
        .group_by(r.kind, r.channel, r.locale, r.version)
    )
    rows = (await session.execute(query)).all()
    return [_version_row(row) for row in rows]


async def build_report(session: AsyncSession, period: Period) -> Report:
    """Every figure of the review report for `period`."""
    bounds = period.bounds()
    zone = period.timezone
    counts, latencies = await notification_rows(session, bounds)
    versions = await version_figures(session, bounds, zone)
    sections = (
        notification_section(counts, latencies),
        on_time_section(await on_time_rows(session, bounds, zone)),
        eta_section(await eta_rows(session, bounds, zone)),
        delay_section(await delay_rows(session, bounds)),
        await sla_section(session, bounds),
        feedback_carrier_section(await feedback_carrier_rows(session, bounds)),
        feedback_template_section(versions),
        inquiry_template_section(versions),
    )
    return Report(period, sections)
