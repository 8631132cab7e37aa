"""`GET /support/inquiries/{id}`: an unmatched inquiry (about no known order) on a page of its
own, with the control that links it to its order (`POST /support/inquiries/{id}/order`), an
answer (by email to the sender's address through the outbox, or told on the phone or in a
chat), and its state.

An inquiry about an order lives on the order's screen: its page redirects there. Linking checks
the sender against the order's customer before anything of the order is shown: a different
address is refused with a warning (nothing changed) until the agent ticks "link anyway".
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.inquiries import InquiryState
from ...errors import NotFound, PortalError, ValidationFailed
from ...models_inquiries import Inquiry
from ...services import inquiries as service
from ...services.inquiry_link import link_to_order
from ...services.inquiry_views import inquiry_detail, queue_row
from ...services.timeline import lock_order
from ..screen.actions import fields_of
from .session import StaffContext, staff_page

SCREEN = "/support/orders/{number}#screen-inquiry-{id}"


async def _detail(runtime: Any, inquiry_id: int) -> dict[str, Any] | None:
    async with runtime.db.read() as session:
        row = await queue_row(session, inquiry_id)
        return None if row is None else await inquiry_detail(session, row, runtime.clock())


def _page(
    staff: StaffContext,
    inquiry: dict[str, Any],
    *,
    status: int = 200,
    error: PortalError | None = None,
    typed: str = "",
    done: str | None = None,
) -> Response:
    return staff.render(
        "support/inquiry.html",
        {
            "inquiry": inquiry,
            "done": done,
            "states": [s.value for s in InquiryState],
            "error": error.message if error else None,
            "mismatch": error is not None and error.code == "sender_mismatch",
            "typed": typed,
        },
        status=status,
    )


def _missing(staff: StaffContext) -> Response:
    return staff.render(
        "support/refused.html",
        {"title": "No such inquiry", "message": "There is no inquiry with this number."},
        status=404,
    )


async def refused_on_page(
    request: Request, staff: StaffContext, inquiry_id: int, exc: PortalError, *, typed: str = ""
) -> Response:
    """An action on an unmatched inquiry was refused: its page again, with the reason."""
    current = await _detail(request.app.state.runtime, inquiry_id)
    if current is None:
        return _missing(staff)
    return _page(staff, current, status=exc.status_code, error=exc, typed=typed)


DONE = {
    "replied": "The answer was recorded.",
    "reply-sent": "The answer is on its way.",
    "inquiry-state": "The inquiry was updated.",
}


@staff_page()
async def inquiry_page(request: Request, staff: StaffContext) -> Response:
    inquiry = await _detail(request.app.state.runtime, int(request.path_params["inquiry_id"]))
    if inquiry is None:
        return _missing(staff)
    if inquiry["order_number"]:
        target = SCREEN.format(number=inquiry["order_number"], id=inquiry["id"])
        return RedirectResponse(target, status_code=303)
    return _page(staff, inquiry, done=DONE.get(request.query_params.get("done", "")))


@staff_page()
async def link_order(request: Request, staff: StaffContext) -> Response:
    """Fields ``order_number`` and ``confirm_sender`` (a checkbox, value ``yes``)."""
    runtime = request.app.state.runtime
    inquiry_id = int(request.path_params["inquiry_id"])
    fields, _ = await fields_of(request)
    number = fields.get("order_number", "").strip()
    uow = runtime.new_uow()
    try:
        if not number:
            raise ValidationFailed("give the order number")
        async with runtime.db.write() as session:
            order = await lock_order(session, number)  # the order first, as other writers
            inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
            if inquiry is None:
                raise NotFound("no such inquiry")
            work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
            author = service.Author(staff.name, staff.user.id)
            confirmed = fields.get("confirm_sender") == "yes"
            await link_to_order(work, inquiry, order, author, confirmed=confirmed)
    except PortalError as exc:
        return await refused_on_page(request, staff, inquiry_id, exc, typed=number)
    await runtime.after_commit(uow)
    return RedirectResponse(SCREEN.format(number=order.order_number, id=inquiry_id), 303)


routes = [
    Route("/support/inquiries/{inquiry_id:int}", inquiry_page, methods=["GET"]),
    Route("/support/inquiries/{inquiry_id:int}/order", link_order, methods=["POST"]),
]
