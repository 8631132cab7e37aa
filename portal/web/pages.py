"""Customer pages: the tracking page (works without JavaScript) and the order lookup."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import PortalError, ValidationFailed
from ..models import Order
from ..services.feedback import save_feedback, validate_feedback
from ..services.links import resolve_link
from ..services.screen.bell import CUSTOMER, LINKS, screen_bell
from ..services.timeline import lock_order_by_id
from ..services.views import OrderView, load_order_view
from .customer_guard import (
    check_csrf,
    count_view_later,
    explain_gone,
    link_gone_page,
    unsubscribe_csrf,
)
from .live_context import choice_csrf as choice_csrf  # re-exported: callers import it here
from .live_context import feedback_csrf, inquiry_csrf, live_context
from .lookup import lookup, lookup_form
from .render import LiveContext

ASK_MAX_LENGTH = 5000


@dataclass(frozen=True, slots=True)
class AskForm:
    """The tracking page's question form (POST /t/{token}/inquiries)."""

    path: str
    csrf: str
    error: str | None = None
    max_length: int = ASK_MAX_LENGTH


def _live_context(
    request: Request, order: Order, error: str | None = None, choice_error: str | None = None
) -> LiveContext:
    settings = request.app.state.runtime.settings
    return live_context(
        settings, order.order_number, feedback_error=error, choice_error=choice_error
    )


def _link_gone(request: Request) -> Response:
    return link_gone_page(request)


async def tracking_page(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    now = runtime.clock()
    async with runtime.db.read() as session:
        found = await resolve_link(session, token, now)
        if found is None:
            return await explain_gone(request, token, now)
        link, order = found
        view = await load_order_view(session, order)
    # GET never writes: the view is counted after the answer, where it cannot fail the page;
    # then the visit shows on open order screens (the customers' hub drops it: no new event).
    count_view_later(
        runtime,
        link.id or 0,
        now,
        announce=screen_bell(view.order_number, view.last_seq, (LINKS, CUSTOMER)),
    )
    notice = "Thank you for your feedback." if request.query_params.get("thanks") else None
    if request.query_params.get("asked"):
        notice = "Thank you: we have your question. Our answer will appear on this page."
    if request.query_params.get("choice"):
        notice = "Thank you: we have your choice and will be in touch to arrange it."
    return _render_tracking(request, view, order, token, notice=notice)


def _render_tracking(
    request: Request,
    view: OrderView,
    order: Order,
    token: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    choice_error: str | None = None,
    ask_error: str | None = None,
    status: int = 200,
) -> Response:
    runtime = request.app.state.runtime
    ctx = _live_context(request, order, error, choice_error)
    ask = AskForm(
        path=f"/t/{token}/inquiries",
        csrf=inquiry_csrf(runtime.settings.secret_key, order.order_number),
        error=ask_error,
    )
    return runtime.page(
        request,
        "track.html",
        {
            "order": view,
            "live_region": Markup(runtime.renderer.region(view, ctx)),  # noqa: S704 - rendered by our autoescaping templates
            "notice": notice,
            "ws_path": f"/t/{token}/ws",
            "ask": ask,
            "lang": view.locale.split("-")[0],
        },
        status=status,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


async def submit_feedback(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    now = runtime.clock()
    form = await request.form(max_files=0, max_fields=10, max_part_size=8192)
    if form.get("alternative") is not None:
        # A delay-choice button: its form has no action, since the live region is the same for
        # every link of the order; send the browser on to the choice's own URL (307 keeps the
        # method and the body).
        delay = str(form.get("delay") or "")
        if not delay.isdigit():
            raise ValidationFailed("the form names no delay")
        return RedirectResponse(f"/t/{token}/delays/{delay}/choice", status_code=307)
    async with runtime.db.read() as session:
        found = await resolve_link(session, token, now)
    if found is None:
        return _link_gone(request)
    _, order = found
    check_csrf(request, form, feedback_csrf(runtime.settings.secret_key, order.order_number))
    uow = runtime.new_uow()
    try:
        rating, comment = validate_feedback(_str(form.get("rating")), _str(form.get("comment")))
        async with runtime.db.write() as session:
            locked = await lock_order_by_id(session, order.id or 0)
            await save_feedback(session, uow, locked, rating, comment, now=now)
    except PortalError as exc:
        async with runtime.db.read() as session:
            view = await load_order_view(session, order)
        return _render_tracking(
            request, view, order, token, error=_explain(exc), status=exc.status_code
        )
    await runtime.after_commit(uow)
    return RedirectResponse(f"/t/{token}?thanks=1", status_code=303)


def _explain(exc: PortalError) -> str:
    """The message for a person: the field problems when there are any."""
    if isinstance(exc.details, list) and exc.details:
        return (
            "; ".join(
                str(d.get("msg", "")) for d in exc.details if isinstance(d, dict)
            ).capitalize()
            + "."
        )
    return exc.message


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


UNSUBSCRIBABLE = ("email", "sms")


async def unsubscribe_form(request: Request) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        found = await resolve_link(session, request.path_params["token"], runtime.clock())
    if found is None:
        return _link_gone(request)
    _, order = found
    opted = set(filter(None, order.opt_out_channels.split(",")))
    return runtime.page(
        request,
        "unsubscribe.html",
        {
            "order_number": order.order_number,
            "opted": opted,
            "done": False,
            "csrf_token": unsubscribe_csrf(runtime.settings.secret_key, order.order_number),
        },
        headers={"Referrer-Policy": "no-referrer"},
    )


async def unsubscribe(request: Request) -> Response:
    """Opt out of email (RFC 8058 one-click: 'List-Unsubscribe=One-Click') or of SMS."""
    runtime = request.app.state.runtime
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    channels = [c for c in form.getlist("channel") if isinstance(c, str) and c in UNSUBSCRIBABLE]
    # RFC 8058 one-click comes from the mail provider, not from our page: the link's token in
    # the URL is its proof. Every other post is the page's form, and carries its CSRF token.
    one_click = form.get("List-Unsubscribe") == "One-Click" and not channels
    if one_click:
        channels = ["email"]
    async with runtime.db.write() as session:
        found = await resolve_link(session, request.path_params["token"], runtime.clock())
        if found is None:
            return _link_gone(request)
        _, order = found
        if not one_click:
            check_csrf(
                request, form, unsubscribe_csrf(runtime.settings.secret_key, order.order_number)
            )
        locked = await lock_order_by_id(session, order.id or 0)
        opted = set(filter(None, locked.opt_out_channels.split(","))) | set(channels)
        locked.opt_out_channels = ",".join(sorted(opted))
        session.add(locked)
    return runtime.page(
        request,
        "unsubscribe.html",
        {
            "order_number": order.order_number,
            "opted": opted,
            "done": True,
            "csrf_token": unsubscribe_csrf(runtime.settings.secret_key, order.order_number),
        },
        headers={"Referrer-Policy": "no-referrer"},
    )


routes = [
    Route("/t/{token}/unsubscribe", unsubscribe_form, methods=["GET"]),
    Route("/t/{token}/unsubscribe", unsubscribe, methods=["POST"]),
    Route("/track", lookup_form, methods=["GET"]),
    Route("/track", lookup, methods=["POST"]),
    Route("/t/{token}", tracking_page, methods=["GET"]),
    Route("/t/{token}", submit_feedback, methods=["POST"]),
]
