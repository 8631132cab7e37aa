"""Inquiries on the order screen: each with its clocks and messages, the answer form and the
state buttons; and logging a phone call or chat as a new inquiry (SCREEN_API.md section).

Actions are console POSTs (CSRF-checked by staff_page). With htmx they answer a small result
and the screen updates over its socket; without JavaScript they answer 303 to the screen.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.inquiries import InquiryChannel, InquiryState, Priority
from ..errors import NotFound, PortalError, ValidationFailed
from ..models import Order
from ..models_inquiries import Inquiry
from ..services import inquiries as service
from ..services.inquiry_views import QueueFilter, inquiry_detail, queue
from ..services.screen.bell import ring_after_commit
from ..services.screen.view import ScreenView
from ..services.timeline import lock_order
from .screen.actions import failed, fields_of, is_htmx, succeeded
from .screen.render import SCREEN_SECTIONS, ScreenSection
from .support import StaffContext, staff_page
from .support.inquiry import refused_on_page

VIAS = ("outbox", "phone", "chat")


async def inquiries_section(runtime: Any, screen: ScreenView, csrf_token: str | None) -> str:
    now = runtime.clock()
    async with runtime.db.read() as session:
        rows = await queue(session, QueueFilter(order_id=screen.order.id, every_state=True), now)
        details = [await inquiry_detail(session, row, now) for row in rows]
    return str(
        runtime.env.get_template("support/_screen_inquiries.html").render(
            order=screen.order,
            inquiries=details,
            csrf_token=csrf_token,
            states=[s.value for s in InquiryState],
            vias=VIAS,
            channels=[InquiryChannel.PHONE.value, InquiryChannel.CHAT.value],
            priorities=[p.value for p in Priority],
        )
    )


SCREEN_SECTIONS.append(ScreenSection("inquiries", inquiries_section))


async def _change(request: Request, staff: StaffContext, inquiry_id: int, act: Any) -> str:
    """Lock the inquiry (and its order), run ``act(work, inquiry, author)``, publish."""
    runtime = request.app.state.runtime
    uow = runtime.new_uow()
    async with runtime.db.write() as session:
        inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
        if inquiry is None:
            raise NotFound("no such inquiry")
        order = await session.get(Order, inquiry.order_id) if inquiry.order_id else None
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        await act(work, inquiry, service.Author(staff.name, staff.user.id))
        if order is not None:
            ring_after_commit(uow, order)
    await runtime.after_commit(uow)
    return order.order_number if order is not None else ""


def _back(number: str, request: Request, done: str, message: str, inquiry_id: int) -> Response:
    if number or is_htmx(request):
        return succeeded(request, number, done, message)
    # An unmatched inquiry: back to its own page.
    return RedirectResponse(f"/support/inquiries/{inquiry_id}?done={done}", status_code=303)


async def _refused(
    request: Request, staff: StaffContext, fields: dict[str, str], inquiry_id: int, exc: PortalError
) -> Response:
    number = fields.get("order_number", "")
    if not number and not is_htmx(request):
        return await refused_on_page(request, staff, inquiry_id, exc)
    return await failed(request, staff, number, "inquiries", exc)


@staff_page()
async def reply(request: Request, staff: StaffContext) -> Response:
    """POST /support/inquiries/{id}/reply: fields ``body`` and ``via`` (outbox, phone, chat)."""
    fields, _ = await fields_of(request)
    via = fields.get("via", "outbox")
    inquiry_id = int(request.path_params["inquiry_id"])

    async def act(work: service.Work, inquiry: Inquiry, author: service.Author) -> None:
        if via not in VIAS:
            raise ValidationFailed(f"via must be one of {', '.join(VIAS)}")
        await service.add_reply(work, inquiry, fields.get("body", ""), author=author, via=via)

    try:
        number = await _change(request, staff, inquiry_id, act)
    except PortalError as exc:
        return await _refused(request, staff, fields, inquiry_id, exc)
    if via == "outbox":
        return _back(number, request, "reply-sent", "The answer is on its way.", inquiry_id)
    return _back(number, request, "replied", "The answer was recorded.", inquiry_id)


@staff_page()
async def change_state(request: Request, staff: StaffContext) -> Response:
    """POST /support/inquiries/{id}/state: field ``state``."""
    fields, _ = await fields_of(request)
    inquiry_id = int(request.path_params["inquiry_id"])

    async def act(work: service.Work, inquiry: Inquiry, author: service.Author) -> None:
        try:
            state = InquiryState(fields.get("state", ""))
        except ValueError:
            raise ValidationFailed("state must be open, waiting_on_customer or resolved") from None
        await service.set_state(work, inquiry, state, author)

    try:
        number = await _change(request, staff, inquiry_id, act)
    except PortalError as exc:
        return await _refused(request, staff, fields, inquiry_id, exc)
    return _back(number, request, "inquiry-state", "The inquiry was updated.", inquiry_id)


@staff_page()
async def log_inquiry(request: Request, staff: StaffContext) -> Response:
    """POST /support/orders/{n}/inquiries: a phone call or chat logged as an inquiry."""
    runtime = request.app.state.runtime
    number = request.path_params["order_number"]
    fields, _ = await fields_of(request)
    uow = runtime.new_uow()
    try:
        channel = InquiryChannel(fields.get("channel", "phone"))
        if channel not in (InquiryChannel.PHONE, InquiryChannel.CHAT):
            raise ValidationFailed("log a phone call or a chat here")
        priority = Priority(fields["priority"]) if fields.get("priority") else None
        async with runtime.db.write() as session:
            order = await lock_order(session, number)
            work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
            new = service.NewInquiry(
                channel=channel,
                message=fields.get("message", ""),
                subject=fields.get("subject", ""),
                priority=priority,
                order=order,
            )
            await service.open_inquiry(work, new, service.Author(staff.name, staff.user.id))
    except ValueError:
        return await failed(
            request, staff, number, "inquiries", ValidationFailed("unknown channel or priority")
        )
    except PortalError as exc:
        return await failed(request, staff, number, "inquiries", exc)
    await runtime.after_commit(uow)
    return succeeded(request, number, "inquiry-logged", "The inquiry was logged.")


routes = [
    Route("/support/inquiries/{inquiry_id:int}/reply", reply, methods=["POST"]),
    Route("/support/inquiries/{inquiry_id:int}/state", change_state, methods=["POST"]),
    Route("/support/orders/{order_number}/inquiries", log_inquiry, methods=["POST"]),
]
