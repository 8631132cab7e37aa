"""`GET /support/audit`: the scheduled audit's findings, open first, with links to the orders."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...services.audit_findings import list_findings
from .session import StaffContext, staff_page


@staff_page()
async def audit_page(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        found = await list_findings(session)
    return staff.render(
        "support/audit.html",
        {**found, "interval": runtime.settings.audit_interval},
    )


routes = [Route("/support/audit", audit_page, methods=["GET"])]
