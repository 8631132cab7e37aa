"""`GET /api/v1/reports`: the review report as JSON, or as CSV with `format=csv`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..domain.kpis import local_day, parse_period
from ..domain.report import Report, report_csv, section_csv
from ..errors import NotFound, ValidationFailed
from ..services.reports import build_report
from .auth import require_api_key

CSV_TYPE = "text/csv; charset=utf-8"


async def load_report(request: Request) -> Report:
    """The report for the request's `from` and `to` (shop-local dates, inclusive)."""
    runtime = request.app.state.runtime
    zone = runtime.settings.shop_timezone
    period = parse_period(
        request.query_params.get("from"),
        request.query_params.get("to"),
        today=local_day(runtime.clock(), zone),
        timezone=zone,
    )
    async with runtime.db.read() as session:
        return await build_report(session, period)


def report_response(request: Request, report: Report) -> Response:
    """JSON, or CSV when `format=csv` (one `section`, or every section in long form)."""
    wanted = request.query_params.get("format", "json")
    if wanted == "json":
        return JSONResponse(report.to_json())
    if wanted != "csv":
        raise ValidationFailed("'format' is json or csv")
    name = request.query_params.get("section")
    period = f"{report.period.start.isoformat()}_{report.period.end.isoformat()}"
    if name:
        try:
            section = report.section(name)
        except KeyError:
            raise NotFound(f"no report section {name!r}") from None
        body, filename = section_csv(section), f"report_{name}_{period}.csv"
    else:
        body, filename = report_csv(report), f"report_{period}.csv"
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def reports(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    return report_response(request, await load_report(request))


routes = [Route("/api/v1/reports", reports, methods=["GET"])]
