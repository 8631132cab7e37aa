"""One renderer for the order screen's live parts: the page, the socket snapshot, increments.

The parts the customer also sees (status, ETA, shipments, timeline entries) are the tracking
page's own macros (templates/_live_parts.html); the staff-only parts are in
templates/support/_screen_parts.html. Every frame is the whole set of parts as out-of-band
swaps: an agent's screen is always the database's state, whichever frames it missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment

from ...services.screen.view import ScreenView
from ..render import visible_events

OOB = 'hx-swap-oob="true"'


@dataclass(frozen=True, slots=True)
class ScreenSection:
    """A section another feature adds to the order screen (inquiries, for one).

    ``render(runtime, screen, csrf_token)`` returns the section's HTML (one element). It is
    called for the page (``csrf_token`` given) and for every live frame (``csrf_token`` None:
    frames are shared by every agent, so forms must rely on the X-CSRF-Token header htmx
    sends from #screen). The screen wraps it in ``<div id="screen-ext-{key}">``.
    """

    key: str
    render: Callable[[Any, ScreenView, str | None], Awaitable[str]]


# Sections other features add, in the order they appear after the built-in ones.
SCREEN_SECTIONS: list[ScreenSection] = []


class ScreenRenderer:
    """Renders a :class:`ScreenView`; the macros' modules are made once (see LiveRenderer)."""

    def __init__(self, env: Environment) -> None:
        self._customer: Any = env.get_template("_live_parts.html").make_module()
        self._staff: Any = env.get_template("support/_screen_parts.html").make_module()

    def parts(self, screen: ScreenView, now: datetime, csrf_token: str | None) -> str:
        """The built-in live parts, in page order, each with ``data-oob="1"``."""
        view, staff = screen.order, self._staff
        rendered = (
            self._customer.status_card(view),
            staff.customer(screen, now),
            staff.delays(screen, csrf_token),
            self._customer.shipments(view),
            staff.notifications(screen, csrf_token),
            staff.links(screen, now, csrf_token),
            staff.interactions(screen),
            staff.calls(screen),
            staff.feedback(screen),
            staff.timeline(screen, visible_events(view)),
        )
        return "".join(str(part) for part in rendered)

    def frame(self, screen: ScreenView, now: datetime, extensions: list[tuple[str, str]]) -> str:
        """A websocket frame: every part as an out-of-band swap."""
        html = self.parts(screen, now, None) + extension_html(extensions)
        return html.replace('data-oob="1"', OOB)


def extension_html(extensions: list[tuple[str, str]]) -> str:
    return "".join(
        f'<div id="screen-ext-{key}" data-oob="1">{html}</div>' for key, html in extensions
    )


async def render_extensions(
    runtime: Any, screen: ScreenView, csrf_token: str | None
) -> list[tuple[str, str]]:
    return [
        (section.key, await section.render(runtime, screen, csrf_token))
        for section in SCREEN_SECTIONS
    ]
