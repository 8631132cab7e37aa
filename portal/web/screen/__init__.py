"""The support console's order screen: page, live socket, actions, call tasks.

Other features add a section with :data:`portal.web.screen.render.SCREEN_SECTIONS` (see
/work/coord/SCREEN_API.md).
"""

from __future__ import annotations

from starlette.routing import Route

from . import actions, calls, socket
from .page import order_screen

routes = [
    Route("/support/orders/{order_number}", order_screen, methods=["GET"]),
    *actions.routes,
    *calls.routes,
    *socket.routes,
]
