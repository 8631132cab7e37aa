"""`POST /t/{token}/delays/{delay_id}/choice`: the customer picks one of a delay's alternatives.

Fields ``alternative`` and ``csrf_token``. Works without JavaScript: the answer is a redirect
back to the tracking page (303), or the page again with the reason when the choice is refused
(400 not offered, 404 unknown delay, 409 closed or already being arranged; nothing changes).
A wrong or missing CSRF token is 403.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import PortalError
from ..security import constant_time_equal
from ..services.delay_choice import record_choice
from ..services.links import resolve_link
from ..services.timeline import lock_order_by_id
from ..services.views import load_order_view
from .pages import _link_gone, _render_tracking, choice_csrf


def _refused(request: Request, status: int, message: str) -> Response:
    return request.app.state.runtime.page(
        request,
        "error.html",
        {"title": "The form expired", "message": message},
        status=status,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


async def choose(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    delay_id = int(request.path_params["delay_id"])
    now = runtime.clock()
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    async with runtime.db.read() as session:
        found = await resolve_link(session, token, now)
    if found is None:
        return _link_gone(request)
    _, order = found
    expected = choice_csrf(runtime.settings.secret_key, order.order_number)
    if request.headers.get("sec-fetch-site") == "cross-site" or not constant_time_equal(
        str(form.get("csrf_token") or ""), expected
    ):
        return _refused(request, 403, "Reload the tracking page and choose again.")
    alternative = str(form.get("alternative") or "")
    uow = runtime.new_uow()
    try:
        async with runtime.db.write() as session:
            locked = await lock_order_by_id(session, order.id or 0)
            await record_choice(
                session,
                uow,
                locked,
                delay_id,
                alternative,
                policy=runtime.settings.sla_policy,
                now=now,
            )
    except PortalError as exc:
        async with runtime.db.read() as session:
            view = await load_order_view(session, order)
        return _render_tracking(
            request, view, order, token, choice_error=exc.message, status=exc.status_code
        )
    await runtime.after_commit(uow)
    return RedirectResponse(f"/t/{token}?choice=1", status_code=303)


routes = [Route("/t/{token}/delays/{delay_id:int}/choice", choose, methods=["POST"])]
