"""Customer pages: the tracking page (works without JavaScript) and the order lookup."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import Conflict, PortalError, ValidationFailed
from ..models import Order
from ..schemas import ORDER_NUMBER_RE
from ..security import constant_time_equal, sign
from ..services.feedback import save_feedback, validate_feedback
from ..services.links import count_use, issue_link, resolve_link
from ..services.review import ReviewVia, review_link
from ..services.screen.bell import screen_bell
from ..services.timeline import lock_order_by_id
from ..services.views import OrderView, load_order_view
from .render import LiveContext, visible_events

LOOKUP_LINK_DAYS = 30
# Every lookup answer takes at least this long, so timing does not tell whether an order exists.
LOOKUP_FLOOR_SECONDS = 0.25
_NOT_FOUND = (
    "We could not find an order with that number and email address. Check both and try again."
)


def feedback_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "feedback", order_number)


def choice_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "delay-choice", order_number)


def _live_context(
    request: Request, order: Order, error: str | None = None, choice_error: str | None = None
) -> LiveContext:
    settings = request.app.state.runtime.settings
    return LiveContext(
        feedback_csrf=feedback_csrf(settings.secret_key, order.order_number),
        review_url=review_link(settings, order.order_number, ReviewVia.PAGE),
        feedback_error=error,
        choice_csrf=choice_csrf(settings.secret_key, order.order_number),
        choice_error=choice_error,
    )


def _link_gone(request: Request) -> Response:
    return request.app.state.runtime.page(
        request,
        "error.html",
        {
            "title": "Link not found",
            "message": "This tracking link does not exist or is no longer valid. "
            "You can find your order with its number and your email address.",
        },
        status=404,
    )


async def tracking_page(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    now = runtime.clock()
    async with runtime.db.read() as session:
        found = await resolve_link(session, token, now)
        if found is None:
            return _link_gone(request)
        link, order = found
        view = await load_order_view(session, order)
    async with runtime.db.write() as session:
        await count_use(session, link.id or 0, now)
    # The visit shows on open order screens (the customers' hub drops it: no new event).
    visit = runtime.new_uow()
    visit.published.append(screen_bell(view.order_number, view.last_seq))
    await runtime.after_commit(visit)
    notice = "Thank you for your feedback." if request.query_params.get("thanks") else None
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
    status: int = 200,
) -> Response:
    runtime = request.app.state.runtime
    ctx = _live_context(request, order, error, choice_error)
    return runtime.page(
        request,
        "track.html",
        {
            "order": view,
            "events": visible_events(view),
            "ctx": ctx,
            "notice": notice,
            "ws_path": f"/t/{token}/ws",
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
    csrf = str(form.get("csrf") or "")
    if not constant_time_equal(
        csrf, feedback_csrf(runtime.settings.secret_key, order.order_number)
    ):
        raise Conflict("the form expired; reload the page and send it again")
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


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def lookup_form(request: Request) -> Response:
    return request.app.state.runtime.page(
        request, "lookup.html", {"error": None, "order_number": "", "email": ""}
    )


async def lookup(request: Request) -> Response:
    """Find an order by number + email. The same answer, in the same time, for any miss."""
    runtime = request.app.state.runtime
    started = time.monotonic()
    if not runtime.lookup_limiter.allow(_client_key(request), started):
        return runtime.page(
            request,
            "lookup.html",
            {
                "error": "Too many attempts. Please wait a few minutes and try again.",
                "order_number": "",
                "email": "",
            },
            status=429,
            headers={"Retry-After": str(int(runtime.lookup_limiter.window))},
        )
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    number = (_str(form.get("order_number")) or "").strip()
    email = (_str(form.get("email")) or "").strip().lower()
    if not number or not email:
        return runtime.page(
            request,
            "lookup.html",
            {
                "error": "Enter your order number and the email address you ordered with.",
                "order_number": number,
                "email": email,
            },
            status=422,
        )
    order = None
    if ORDER_NUMBER_RE.match(number):
        async with runtime.db.read() as session:
            order = (
                await session.execute(select(Order).where(col(Order.order_number) == number))
            ).scalar_one_or_none()
    # Compare against something even when there is no order, so both paths do the same work.
    expected = order.customer_email_norm if order else "nobody@invalid.invalid"
    matched = constant_time_equal(email, expected) and order is not None
    path = None
    if matched and order is not None:
        async with runtime.db.write() as session:
            issued = issue_link(
                session,
                order,
                now=runtime.clock(),
                expires_in_days=LOOKUP_LINK_DAYS,
                created_by="lookup",
            )
            path = issued.path()
    await asyncio.sleep(max(0.0, LOOKUP_FLOOR_SECONDS - (time.monotonic() - started)))
    if path is not None:
        return RedirectResponse(path, status_code=303)
    return runtime.page(
        request,
        "lookup.html",
        {"error": _NOT_FOUND, "order_number": number, "email": email},
        status=200,
    )


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
        {"order_number": order.order_number, "opted": opted, "done": False},
        headers={"Referrer-Policy": "no-referrer"},
    )


async def unsubscribe(request: Request) -> Response:
    """Opt out of email (RFC 8058 one-click: 'List-Unsubscribe=One-Click') or of SMS."""
    runtime = request.app.state.runtime
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    channels = [c for c in form.getlist("channel") if isinstance(c, str) and c in UNSUBSCRIBABLE]
    if form.get("List-Unsubscribe") == "One-Click" and not channels:
        channels = ["email"]
    async with runtime.db.write() as session:
        found = await resolve_link(session, request.path_params["token"], runtime.clock())
        if found is None:
            return _link_gone(request)
        _, order = found
        locked = await lock_order_by_id(session, order.id or 0)
        opted = set(filter(None, locked.opt_out_channels.split(","))) | set(channels)
        locked.opt_out_channels = ",".join(sorted(opted))
        session.add(locked)
    return runtime.page(
        request,
        "unsubscribe.html",
        {"order_number": order.order_number, "opted": opted, "done": True},
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
