"""`POST /support/orders/{order_number}/delays/{delay_id}/choice/handled`: staff act on a choice.

After this the customer can no longer change the choice from the tracking page (they are told
to contact support). Recorded in the CRM log with the staff user; the page updates live.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...errors import PortalError
from ...services.delay_choice import mark_handled
from ...services.timeline import lock_order
from .session import StaffContext, refusal, staff_page


@staff_page()
async def choice_handled(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    number = request.path_params["order_number"]
    uow = runtime.new_uow()
    try:
        async with runtime.db.write() as session:
            order = await lock_order(session, number)
            await mark_handled(
                session,
                uow,
                order,
                int(request.path_params["delay_id"]),
                staff=staff.name,
                staff_user_id=staff.user.id,
                now=runtime.clock(),
            )
    except PortalError as exc:
        return refusal(request, exc.status_code, "Not done", exc.message)
    await runtime.after_commit(uow)
    return RedirectResponse(f"/support/orders/{quote(number, safe='')}", status_code=303)


routes = [
    Route(
        "/support/orders/{order_number}/delays/{delay_id:int}/choice/handled",
        choice_handled,
        methods=["POST"],
    )
]
