"""One renderer for the tracking page's live region: page, socket snapshot, increments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..domain.status import EventKind, OrderStatus
from ..services.views import EventView, OrderView
from . import presenters


def templates_dir() -> Path:
    """templates/ beside the packages (a checkout) or in the working directory (the image)."""
    for candidate in (Path(__file__).resolve().parents[2] / "templates", Path.cwd() / "templates"):
        if (candidate / "track.html").is_file():
            return candidate
    raise RuntimeError("cannot find the templates/ folder; run the portal from its project folder")


def static_dir() -> Path:
    return templates_dir().parent / "static"


def make_environment(directory: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(directory or templates_dir())),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        label=presenters.label,
        reason_label=presenters.reason_label,
        alternative_label=presenters.alternative_label,
        long_date=presenters.long_date,
        local_time=presenters.local_time,
        mask_email=presenters.mask_email,
        progress_steps=presenters.progress_steps,
        is_final=presenters.is_final,
        is_trouble=presenters.is_trouble,
        shows_delay=presenters.shows_delay,
        S=OrderStatus,
        K=EventKind,
    )
    return env


@dataclass(frozen=True, slots=True)
class LiveContext:
    """What the live region needs besides the order; the same for every viewer of an order."""

    feedback_csrf: str
    review_url: str | None
    feedback_error: str | None = None
    # The delay-choice form's CSRF token (per order, like feedback_csrf) and its error, if any.
    choice_csrf: str = ""
    choice_error: str | None = None


def visible_events(view: OrderView) -> list[EventView]:
    """The customer's timeline, newest first."""
    return sorted(view.events, key=lambda e: (e.occurred_at, e.seq), reverse=True)


class LiveRenderer:
    """Renders the region from an OrderView; used for the page, the snapshot and increments."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._live = env.get_template("_live.html")
        # The parts' macros take everything they show as arguments, so one module serves every
        # increment. (A module made per increment is a reference cycle: tens of objects per
        # event, with the order's view, left for the garbage collector, whose young-generation
        # passes then stopped a server holding 10,000 sockets for 15 to 30 ms each.)
        self._parts: Any = env.get_template("_live_parts.html").make_module()  # macros by name

    def _vars(self, view: OrderView, ctx: LiveContext) -> dict[str, Any]:
        return {"order": view, "events": visible_events(view), "ctx": ctx}

    def region(self, view: OrderView, ctx: LiveContext) -> str:
        return self._live.render(self._vars(view, ctx))

    def snapshot(self, view: OrderView, ctx: LiveContext) -> str:
        return f'<div id="live" hx-swap-oob="true">{self.region(view, ctx)}</div>'

    def increments(
        self, view: OrderView, ctx: LiveContext, after_seq: int
    ) -> list[tuple[int, str]]:
        """Out-of-band fragments for each event after `after_seq`, one per event, in seq order.

        Each carries its new timeline entry, placed among the entries the page already shows;
        the last one also carries the live parts (status, ETA, shipments, delay banner,
        feedback), which are idempotent. One frame per event lets a viewer whose snapshot is
        newer skip exactly the entries it already has.
        """
        new_events = sorted((e for e in view.events if e.seq > after_seq), key=lambda e: e.seq)
        if not new_events:
            return []
        shown = [e for e in view.events if e.seq <= after_seq]
        frames = []
        for index, event in enumerate(new_events):
            entry = self._parts.event_item(event, view)
            html = f'<div hx-swap-oob="{_insert_position(shown, event)}">{entry}</div>'
            if index == len(new_events) - 1:
                html = self._state_parts(view, ctx) + html
            frames.append((event.seq, html))
            shown.append(event)
        return frames

    def _state_parts(self, view: OrderView, ctx: LiveContext) -> str:
        module = self._parts
        parts = (
            module.status_card(view),
            module.delay_banner(view, ctx),
            module.shipments(view),
            module.inquiries(view),
            module.feedback(view, ctx),
        )
        return "".join(str(p) for p in parts).replace('data-oob="1"', 'hx-swap-oob="true"')


def _insert_position(shown: list[EventView], event: EventView) -> str:
    """Where a new entry goes in the newest-first timeline, as an htmx out-of-band target."""
    key = (event.occurred_at, event.seq)
    older = [e for e in shown if (e.occurred_at, e.seq) < key]
    if not older:
        return "beforeend:#timeline"
    if len(older) == len(shown):
        return "afterbegin:#timeline"
    nearest = max(older, key=lambda e: (e.occurred_at, e.seq))
    return f"beforebegin:#ev-{nearest.seq}"
