"""`GET, POST /track`: find an order by its number and the email address it was placed with.

The answer is the same whether or not they match: same status, same body, no Location, and the
same time (a floor, with the link's issue and its email done after the answer). When they match,
a fresh tracking link is emailed to the address on file; the page never shows it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response

from ..models import Order
from ..notify.channels.base import OutgoingEmail
from ..proxies import client_address
from ..schemas import ORDER_NUMBER_RE
from ..security import constant_time_equal
from ..services.links import issue_link
from .customer_guard import check_lookup_csrf, lookup_csrf, page_headers

log = logging.getLogger(__name__)

LOOKUP_LINK_DAYS = 30
# Every lookup answer takes at least this long, so timing does not tell whether an order exists.
LOOKUP_FLOOR_SECONDS = 0.25
ANSWER = (
    "If that order number and email address belong to an order, we have emailed a link to its "
    "tracking page to that address. It may take a few minutes to arrive."
)
_pending: set[asyncio.Task[None]] = set()


def _page(
    request: Request, *, error: str | None = None, status: int = 200, **headers: str
) -> Response:
    runtime = request.app.state.runtime
    return runtime.page(
        request,
        "lookup.html",
        {"error": error, "csrf_token": lookup_csrf(runtime.settings.secret_key)},
        status=status,
        headers=page_headers(headers),
    )


def _client_key(request: Request) -> str:
    return client_address(request.scope, request.app.state.runtime.settings.trusted_proxies)


async def lookup_form(request: Request) -> Response:
    return _page(request)


async def lookup(request: Request) -> Response:
    """Find an order by number + email: one answer for every outcome (see the module)."""
    runtime = request.app.state.runtime
    started = time.monotonic()
    if not runtime.lookup_limiter.allow(_client_key(request), started):
        return _page(
            request,
            error="Too many attempts. Please wait a few minutes and try again.",
            status=429,
            **{"Retry-After": str(int(runtime.lookup_limiter.window))},
        )
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    check_lookup_csrf(request, form, runtime.settings.secret_key)
    number = str(form.get("order_number") or "").strip()
    email = str(form.get("email") or "").strip().lower()
    if not number or not email:
        return _page(
            request,
            error="Enter your order number and the email address you ordered with.",
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
    if constant_time_equal(email, expected) and order is not None and order.id is not None:
        task = asyncio.create_task(_email_link(runtime, order.id, runtime.clock()))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    await asyncio.sleep(max(0.0, LOOKUP_FLOOR_SECONDS - (time.monotonic() - started)))
    return runtime.page(request, "lookup_sent.html", {"message": ANSWER}, headers=page_headers())


async def _email_link(runtime: object, order_id: int, now: datetime) -> None:
    """Issue a fresh link and email it to the address on file (never to the one typed)."""
    from ..services.dispatch import build_channels

    try:
        async with runtime.db.write() as session:  # type: ignore[attr-defined]
            order = await session.get(Order, order_id)
            if order is None:
                return
            issued = issue_link(
                session, order, now=now, expires_in_days=LOOKUP_LINK_DAYS, created_by="lookup"
            )
            url = runtime.settings.url(issued.path())  # type: ignore[attr-defined]
            to, number = order.customer_email, order.order_number
        shop = runtime.settings.shop_name  # type: ignore[attr-defined]
        message = OutgoingEmail(
            to=to,
            subject=f"Your tracking link for order {number}",
            text=(
                f"Hello,\n\nsomeone asked for the tracking page of order {number} at {shop}.\n"
                f"Here it is (valid for {LOOKUP_LINK_DAYS} days):\n\n{url}\n\n"
                "If this was not you, you can ignore this email.\n"
            ),
        )
        async with build_channels(runtime.settings) as channels:  # type: ignore[attr-defined]
            await channels.email.send(message)
    except Exception:
        log.warning("the lookup link for order id %s was not sent", order_id, exc_info=True)
