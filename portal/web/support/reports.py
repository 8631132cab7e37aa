"""`GET /support/reports`: the review report as charts, each with its table and its CSV.

Agents and admins may read it. `format=csv` (with an optional `section`) downloads the same
CSV files as the API, under the console session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.report import Report, Section
from ..charts import Group, bar_chart, number, percent
from ..reports_api import load_report, report_response
from .session import StaffContext, staff_page


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _days(value: float) -> str:
    return f"{value:g} d"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """Which figures of a section one chart draws, and how."""

    title: str
    figures: tuple[str, ...]
    series: tuple[str, ...]
    maximum: float | None = None
    fmt: Callable[[float], str] = number


_RESPONSE = ChartSpec("Response rate", ("response_rate",), ("responded",), 1.0, percent)
_RATING = ChartSpec("Mean rating (of 5)", ("mean_rating",), ("mean rating",), 5.0)

CHARTS: dict[str, tuple[ChartSpec, ...]] = {
    "notifications": (
        ChartSpec("Change to send", ("p50_seconds", "p95_seconds"), ("p50", "p95"), fmt=_seconds),
        ChartSpec("Outcomes", ("sent", "failed", "dead"), ("sent", "failed", "dead")),
    ),
    "on_time_by_carrier": (
        ChartSpec("On-time rate", ("on_time_rate",), ("on time",), 1.0, percent),
    ),
    "eta_accuracy_by_carrier": (
        ChartSpec("Mean absolute error", ("mae_days",), ("error",), fmt=_days),
        ChartSpec("Exactly right", ("exact_share",), ("exact",), 1.0, percent),
    ),
    "delays_by_reason": (ChartSpec("Delays", ("delays",), ("delays",)),),
    "sla": (ChartSpec("Met share", ("met_share",), ("met",), 1.0, percent),),
    "feedback_by_carrier": (_RESPONSE, _RATING),
    "feedback_by_template": (_RESPONSE, _RATING),
    "inquiries_after_notice": (
        ChartSpec("Orders with an inquiry", ("inquiry_share",), ("asked",), 1.0, percent),
    ),
}

RATE_COLUMNS = frozenset(f for specs in CHARTS.values() for s in specs for f in s.figures)


def _label(section: Section, row: tuple[Any, ...]) -> str:
    return " · ".join(str(v) for v in row[: len(section.key)])


def _value(raw: Any) -> float | None:
    return None if raw is None else float(raw)


def charts_for(section: Section) -> list[Markup]:
    """The section's charts, drawn from its rows."""
    drawn = []
    for spec in CHARTS.get(section.name, ()):
        indexes = [section.columns.index(f) for f in spec.figures]
        groups = [
            Group(_label(section, row), tuple(_value(row[i]) for i in indexes))
            for row in section.rows
        ]
        title = f"{section.title}: {spec.title.lower()}"
        drawn.append(bar_chart(title, groups, spec.series, maximum=spec.maximum, fmt=spec.fmt))
    return drawn


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if column.endswith(("_rate", "_share")):
        return percent(float(value))
    return str(value)


def _query(report: Report, **extra: str) -> str:
    period = {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()}
    return urlencode({**period, **extra})


def section_view(report: Report, section: Section) -> dict[str, Any]:
    return {
        "name": section.name,
        "title": section.title,
        "columns": section.columns,
        "numeric": [c not in section.key for c in section.columns],
        "rows": [
            [_cell(c, v) for c, v in zip(section.columns, row, strict=True)] for row in section.rows
        ],
        "charts": charts_for(section) if section.rows else [],
        "csv_url": "/support/reports?" + _query(report, format="csv", section=section.name),
    }


@staff_page()
async def reports_page(request: Request, staff: StaffContext) -> Response:
    report = await load_report(request)
    if request.query_params.get("format", "html") != "html":
        return report_response(request, report)
    return staff.render(
        "support/reports.html",
        {
            "report": report,
            "sections": [section_view(report, s) for s in report.sections],
            "csv_url": "/support/reports?" + _query(report, format="csv"),
        },
    )


routes = [Route("/support/reports", reports_page, methods=["GET"])]
