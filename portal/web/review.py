"""`GET /review/{order_number}/{signature}`: count a review-link click, then redirect."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..services.review import record_click


async def review_redirect(request: Request) -> Response:
    runtime = request.app.state.runtime
    settings = runtime.settings
    recorded = False
    if settings.review_url:
        async with runtime.db.write() as session:
            recorded = await record_click(
                session,
                settings,
                request.path_params["order_number"],
                request.path_params["signature"],
                request.query_params.get("via"),
                runtime.clock(),
            )
    if not recorded:
        return runtime.page(
            request,
            "error.html",
            {"title": "Link not found", "message": "This review link is not valid."},
            status=404,
        )
    return RedirectResponse(settings.review_url, status_code=303)


routes = [Route("/review/{order_number}/{signature}", review_redirect, methods=["GET"])]
