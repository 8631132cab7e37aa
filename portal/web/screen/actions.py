"""The order screen's actions (POST, CSRF-checked by staff_page), each logged in the CRM.

With htmx an action answers a small fragment (or nothing) and the screen updates over its
socket; without JavaScript it answers 303 back to the screen, or the screen itself when it
has something to show once (a new link's URL, a delay's preview, errors).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.interactions import InteractionAction, InteractionOutcome
from ...errors import PortalError, ValidationFailed
from ...models_inquiries import Inquiry
from ...services.interactions import InteractionEntry, record_interaction
from ...services.screen import links as link_actions
from ...services.screen.actor import Actor
from ...services.screen.bell import CALLS, INTERACTIONS, ring_after_commit
from ...services.screen.calls import request_callback
from ...services.screen.delays import open_delay_as, preview_delay
from ...services.screen.forms import read_delay, read_interaction
from ...services.screen.resend import resend_notification
from ...services.timeline import UnitOfWork, lock_order
from ..support import StaffContext, staff_page
from .page import load_screen, no_such_order, render_screen

LINK_DAYS_DEFAULT = 30


def actor_of(staff: StaffContext) -> Actor:
    return Actor(staff.name, staff.user.id)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def fields_of(request: Request) -> tuple[dict[str, str], list[str]]:
    """The form's single values, and its checked alternatives."""
    form = await request.form(max_files=0, max_fields=40, max_part_size=8192)
    single = {k: v for k, v in form.items() if isinstance(v, str)}
    alternatives = [v for v in form.getlist("alternatives") if isinstance(v, str)]
    return single, alternatives


def problems_of(exc: PortalError) -> list[str]:
    if isinstance(exc.details, list) and exc.details:
        return [
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg', '')}"
            for d in exc.details
            if isinstance(d, dict)
        ]
    return [exc.message]


def fragment(request: Request, template: str, context: dict[str, Any], status: int) -> Response:
    return request.app.state.runtime.page(request, template, context, status=status)


async def failed(
    request: Request, staff: StaffContext, number: str, section: str, exc: PortalError, **extra: Any
) -> Response:
    """Answer an action that was refused: the problems, where the form is."""
    problems = problems_of(exc)
    if is_htmx(request):
        return fragment(
            request, "support/_action_result.html", {"problems": problems}, exc.status_code
        )
    screen = await load_screen(request, number)
    if screen is None:
        return no_such_order(request, number)
    context = {"errors": {section: problems}, **extra}
    return await render_screen(request, staff, screen, context, status=exc.status_code)


def succeeded(request: Request, number: str, done: str, message: str) -> Response:
    if is_htmx(request):
        return fragment(request, "support/_action_result.html", {"message": message}, 200)
    return RedirectResponse(f"/support/orders/{number}?done={done}", status_code=303)


Change = Callable[[Any, UnitOfWork, Any], Awaitable[Any]]


async def change_order(request: Request, number: str, change: Change) -> Any:
    """Run ``change(session, uow, locked order)`` in one transaction, then publish."""
    runtime = request.app.state.runtime
    uow = runtime.new_uow()
    async with runtime.db.write() as session:
        order = await lock_order(session, number)
        result = await change(session, uow, order)
    await runtime.after_commit(uow)
    return result


async def _check_inquiry(session: Any, order: Any, inquiry_id: int) -> None:
    """An interaction names an inquiry of its own order, or none."""
    found = await session.get(Inquiry, inquiry_id)
    if found is None or found.order_id != order.id:
        raise ValidationFailed(
            "no such inquiry on this order",
            details=[
                {
                    "loc": ["inquiry_id"],
                    "msg": f"order {order.order_number} has no inquiry {inquiry_id}",
                }
            ],
        )


@staff_page()
async def log_interaction(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    fields, _ = await fields_of(request)
    now = request.app.state.runtime.clock()
    actor = actor_of(staff)

    async def change(session: Any, uow: UnitOfWork, order: Any) -> None:
        form = read_interaction(fields, order.timezone)
        if form.inquiry_id is not None:
            await _check_inquiry(session, order, form.inquiry_id)
        entry = InteractionEntry(
            channel=form.channel,
            direction=form.direction,
            outcome=form.outcome,
            summary=form.summary,
            staff=actor.name,
            staff_user_id=actor.staff_user_id,
            action=InteractionAction.LOGGED,
            duration_s=form.duration_s,
            inquiry_id=form.inquiry_id,
        )
        record_interaction(session, order, entry, now=now)
        if form.outcome is InteractionOutcome.CALLBACK_REQUESTED:
            due = form.callback_at or now
            request_callback(session, order, actor=actor, due_at=due, note=form.summary, now=now)
        ring_after_commit(uow, order, INTERACTIONS, CALLS)

    try:
        await change_order(request, number, change)
    except PortalError as exc:
        return await failed(request, staff, number, "log", exc, log_form=fields)
    return succeeded(request, number, "logged", "The interaction was logged.")


@staff_page()
async def create_link(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    fields, _ = await fields_of(request)
    runtime = request.app.state.runtime
    raw = fields.get("expires_in_days", "").strip() or str(LINK_DAYS_DEFAULT)
    days = int(raw) if raw.isdigit() and 0 <= int(raw) <= 366 else -1

    async def change(session: Any, uow: UnitOfWork, order: Any) -> Any:
        if days < 0:
            raise PortalError("expires_in_days: a whole number of days from 0 (never) to 366")
        return await link_actions.create_link(
            session,
            uow,
            order,
            actor=actor_of(staff),
            expires_in_days=days or None,
            now=runtime.clock(),
        )

    try:
        issued = await change_order(request, number, change)
    except PortalError as exc:
        return await failed(request, staff, number, "link", exc)
    new_link = {
        "id": issued.link.id,
        "url": runtime.settings.url(issued.path()),
        "expires_at": issued.link.expires_at,
    }
    if is_htmx(request):
        return fragment(request, "support/_new_link.html", {"new_link": new_link}, 201)
    screen = await load_screen(request, number)
    if screen is None:
        return no_such_order(request, number)
    return await render_screen(request, staff, screen, {"new_link": new_link}, status=201)


def _int_param(request: Request, name: str) -> int:
    raw = request.path_params[name]
    return int(raw) if raw.isdigit() and len(raw) < 18 else 0


@staff_page()
async def revoke_link(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    link_id = _int_param(request, "link_id")
    runtime = request.app.state.runtime

    async def change(session: Any, uow: UnitOfWork, order: Any) -> Any:
        return await link_actions.revoke_link(
            session, uow, order, link_id, actor=actor_of(staff), now=runtime.clock()
        )

    try:
        await change_order(request, number, change)
    except PortalError as exc:
        return await failed(request, staff, number, "links", exc)
    await runtime.link_watch.close_link(link_id)
    return succeeded(request, number, "revoked", f"Link {link_id} was revoked.")


@staff_page()
async def resend(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    notification_id = _int_param(request, "notification_id")
    runtime = request.app.state.runtime

    async def change(session: Any, uow: UnitOfWork, order: Any) -> Any:
        return await resend_notification(
            session, uow, order, notification_id, actor=actor_of(staff), now=runtime.clock()
        )

    try:
        row = await change_order(request, number, change)
    except PortalError as exc:
        return await failed(request, staff, number, "notifications", exc)
    message = f"Notification #{notification_id} was queued again as #{row.id}."
    if row.state != "pending":
        message = f"Not resent: the check refused it ({row.blocked_reason})."
    return succeeded(request, number, "resent", message)


@staff_page()
async def delay_preview(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    fields, alternatives = await fields_of(request)
    runtime = request.app.state.runtime
    form = {**fields, "alternatives": alternatives}
    try:
        data = read_delay(fields, alternatives)
        previews = await preview_delay(
            runtime.db,
            runtime.new_uow(),
            number,
            data,
            actor=actor_of(staff),
            now=runtime.clock(),
        )
    except PortalError as exc:
        return await failed(request, staff, number, "delay", exc, delay_form=form)
    context = {"preview": previews, "delay_form": form, "base": f"/support/orders/{number}"}
    if is_htmx(request):
        return staff.render("support/_delay_preview.html", context)
    screen = await load_screen(request, number)
    if screen is None:
        return no_such_order(request, number)
    return await render_screen(request, staff, screen, context)


@staff_page()
async def open_delay(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    fields, alternatives = await fields_of(request)
    runtime = request.app.state.runtime
    form = {**fields, "alternatives": alternatives}

    async def change(session: Any, uow: UnitOfWork, order: Any) -> Any:
        data = read_delay(fields, alternatives)
        return await open_delay_as(
            session, uow, order, data, actor=actor_of(staff), now=runtime.clock()
        )

    try:
        await change_order(request, number, change)
    except PortalError as exc:
        return await failed(request, staff, number, "delay", exc, delay_form=form)
    return succeeded(
        request, number, "delay", "The delay was opened; the customer's notices are queued."
    )


_ORDER = "/support/orders/{order_number}"
routes = [
    Route(_ORDER + "/interactions", log_interaction, methods=["POST"]),
    Route(_ORDER + "/links", create_link, methods=["POST"]),
    Route(_ORDER + "/links/{link_id}/revoke", revoke_link, methods=["POST"]),
    Route(_ORDER + "/notifications/{notification_id}/resend", resend, methods=["POST"]),
    Route(_ORDER + "/delays/preview", delay_preview, methods=["POST"]),
    Route(_ORDER + "/delays", open_delay, methods=["POST"]),
]
