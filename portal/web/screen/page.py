"""`GET /support/orders/{order_number}`: everything about an order on one screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from carriers.status import ReasonCode

from ...domain.interactions import Direction, InteractionChannel, InteractionOutcome
from ...schemas import ALTERNATIVES, ORDER_NUMBER_RE
from ...services.screen.view import ScreenView, read_screen_view
from ..support import StaffContext, staff_page
from ..support.session import refusal
from .render import MARK, extension_html, render_extensions

CHOICES = {
    "channels": [c.value for c in InteractionChannel],
    "directions": [d.value for d in Direction],
    "outcomes": [o.value for o in InteractionOutcome],
    "reasons": [r.value for r in ReasonCode],
    "alternatives": list(ALTERNATIVES),
}


async def load_screen(request: Request, order_number: str) -> ScreenView | None:
    if not ORDER_NUMBER_RE.match(order_number):
        return None
    runtime = request.app.state.runtime
    async with runtime.db.engine.connect() as connection:
        return await read_screen_view(connection, order_number)


def no_such_order(request: Request, order_number: str) -> Response:
    return refusal(request, 404, "No such order", f"There is no order {order_number!r}.")


async def render_screen(
    request: Request,
    staff: StaffContext,
    screen: ScreenView,
    extra: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    """The whole page: the live parts as the socket would send them, and the action forms."""
    runtime = request.app.state.runtime
    renderer = runtime.screen_feed.renderer
    now = runtime.clock()
    number = screen.order.order_number
    extensions = await render_extensions(runtime, screen, staff.csrf_token)
    context = {
        "screen": screen,
        # Without the frames' out-of-band marks: a page and a live screen are the same DOM.
        "parts": Markup(_unmarked(renderer.parts(screen, now, staff.csrf_token))),  # noqa: S704
        "extensions": Markup(_unmarked(extension_html(extensions))),  # noqa: S704
        "ws_path": f"/support/ws/orders/{number}",
        "base": f"/support/orders/{number}",
        "choices": CHOICES,
        "notice": None,
        "new_link": None,
        "preview": None,
        "delay_form": {},
        "log_form": {},
        "errors": {},
        **(extra or {}),
    }
    return staff.render("support/order.html", context, status=status)


def _unmarked(html: str) -> str:
    return html.replace(f" {MARK}", "")


DONE_NOTICES = {
    "logged": "The interaction was logged.",
    "revoked": "The link was revoked; pages open on it go offline within seconds.",
    "resent": "The notification was queued again.",
    "delay": "The delay was opened and the customer's notices queued.",
}


@staff_page()
async def order_screen(request: Request, staff: StaffContext) -> Response:
    number = request.path_params["order_number"]
    screen = await load_screen(request, number)
    if screen is None:
        return no_such_order(request, number)
    notice = DONE_NOTICES.get(request.query_params.get("done", ""))
    return await render_screen(request, staff, screen, {"notice": notice})
