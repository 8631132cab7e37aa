"""One renderer for the order screen's live parts: the page, the socket snapshot, increments.

The parts the customer also sees (status, ETA, shipments, timeline entries) are the tracking
page's own macros (templates/_live_parts.html); the staff-only parts are in
templates/support/_screen_parts.html. A snapshot (and a repair after a gap) is every part as
an out-of-band swap; a live frame is only what changed since the last one (see frames.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment

from ...services.screen.view import NotificationView, ScreenView
from ...services.views import EventView
from ..render import visible_events

OOB = 'hx-swap-oob="true"'
MARK = 'data-oob="1"'

# The built-in parts, in page order (the keys a doorbell names: see services/screen/bell.py).
PARTS = (
    "status",
    "customer",
    "delays",
    "shipments",
    "notifications",
    "links",
    "interactions",
    "calls",
    "feedback",
    "timeline",
)


@dataclass(frozen=True, slots=True)
class ScreenSection:
    """A section another feature adds to the order screen (inquiries, for one).

    ``render(runtime, screen, csrf_token)`` returns the section's HTML (one element). It is
    called for the page (``csrf_token`` given) and for every live frame that may show it
    (``csrf_token`` None: frames are shared by every agent, so forms must rely on the
    X-CSRF-Token header htmx sends from #screen). The screen wraps it in
    ``<div id="screen-ext-{key}">``.
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

    def part(self, key: str, screen: ScreenView, now: datetime, csrf_token: str | None) -> str:
        """One built-in part (one element with a stable id, marked ``data-oob="1"``)."""
        view, staff = screen.order, self._staff
        if key == "status":
            return str(self._customer.status_card(view))
        if key == "customer":
            return str(staff.customer(screen, now))
        if key == "delays":
            return str(staff.delays(screen, csrf_token))
        if key == "shipments":
            return str(self._customer.shipments(view))
        if key == "notifications":
            return str(staff.notifications(screen, csrf_token))
        if key == "links":
            return str(staff.links(screen, now, csrf_token))
        if key == "timeline":
            events = visible_events(view)
            items = self._customer.event_items(events, view)  # Markup: not escaped again
            return str(staff.timeline(len(events), items))
        return str(getattr(staff, key)(screen))  # interactions, calls, feedback

    def parts(self, screen: ScreenView, now: datetime, csrf_token: str | None) -> str:
        """The built-in live parts, in page order, each with ``data-oob="1"``."""
        return "".join(self.part(key, screen, now, csrf_token) for key in PARTS)

    def frame(self, screen: ScreenView, now: datetime, extensions: list[tuple[str, str]]) -> str:
        """A whole websocket frame: every part as an out-of-band swap."""
        html = self.parts(screen, now, None) + extension_html(extensions)
        return html.replace(MARK, OOB)

    # Pieces of parts, for live frames that send only what changed.

    def event_items(self, events: Sequence[EventView], screen: ScreenView) -> str:
        return str(self._customer.event_items(events, screen.order))

    def timeline_heading(self, count: int) -> str:
        """The timeline's heading (its count) as an out-of-band swap."""
        return str(self._staff.timeline_heading(count, True))

    def notification_items(
        self, notes: Iterable[NotificationView], screen: ScreenView, *, oob: bool
    ) -> str:
        return str(self._staff.notification_items(list(notes), screen.order, None, oob))

    def notifications_heading(self, count: int) -> str:
        """The notifications' heading (their count) as an out-of-band swap."""
        return str(self._staff.notifications_heading(count, True))


def extension_part(key: str, html: str) -> str:
    return f'<div id="screen-ext-{key}" {MARK}>{html}</div>'


def extension_html(extensions: list[tuple[str, str]]) -> str:
    return "".join(extension_part(key, html) for key, html in extensions)


async def render_extensions(
    runtime: Any, screen: ScreenView, csrf_token: str | None
) -> list[tuple[str, str]]:
    return [
        (section.key, await section.render(runtime, screen, csrf_token))
        for section in SCREEN_SECTIONS
    ]
