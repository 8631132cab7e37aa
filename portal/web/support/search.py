"""`GET /support/orders?q=`: find orders by number, email, phone, tracking number or name."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api_crm import run_search
from .session import StaffContext, staff_page


@staff_page()
async def search_page(request: Request, staff: StaffContext) -> Response:
    q = request.query_params.get("q", "")
    found = await run_search(request)
    next_url = None
    if found is not None and found.next_cursor:
        next_url = "/support/orders?" + urlencode({"q": q, "cursor": found.next_cursor})
    return staff.render(
        "support/search.html",
        {
            "q": q,
            "hits": found.hits if found else [],
            "searched": found is not None,
            "next_url": next_url,
            "continued": bool(request.query_params.get("cursor")),
        },
    )


routes = [Route("/support/orders", search_page, methods=["GET"])]
