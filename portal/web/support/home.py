"""`GET /support`: the console home: the search box, then the panels other features add.

The queue of inquiries and the call tasks due are panels: a panel is an async function taking
(request, staff) and returning the HTML it shows (rendered with ``staff.render`` templates or
``runtime.env``); add it to HOME_PANELS below, in the order they should appear.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .session import StaffContext, staff_page

HomePanel = Callable[[Request, StaffContext], Awaitable[str]]

# The inquiry queue and the call tasks due go here (see /work/coord/STAFF_API.md).
HOME_PANELS: list[HomePanel] = []


@staff_page()
async def home(request: Request, staff: StaffContext) -> Response:
    panels = [Markup(await panel(request, staff)) for panel in HOME_PANELS]  # noqa: S704
    return staff.render("support/home.html", {"panels": panels, "q": ""})


routes = [Route("/support", home, methods=["GET"])]
