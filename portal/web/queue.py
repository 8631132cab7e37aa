"""The inquiry queue on `/support`, pushed live over `WS /support/ws/queue`.

The queue lists open inquiries by next due time, breached first, with a countdown to each due
time (the browser only ticks the clock between pushes). Every change of state is pushed by the
server: an inquiry opened, answered or changed (the inquiry bell, from any process), a warning
time reached or a breach recorded (the breach watcher). Filters: mine, unassigned, breached,
and a priority. The socket checks the session cookie and the Origin at the handshake (403).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.websocket import origin_allowed

from ..domain.inquiries import Priority
from ..models_inquiries import Inquiry
from ..services.inquiry_views import QueueFilter, QueueRow, queue
from .support import StaffContext, active_session, staff_page
from .support.home import HOME_PANELS

log = logging.getLogger(__name__)
VIEWS = ("all", "mine", "unassigned", "breached")
SEND_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class QueueView:
    """What one queue shows: a view (all, mine, unassigned, breached) and a priority."""

    view: str = "all"
    priority: str | None = None

    @staticmethod
    def of(params: Any) -> QueueView:
        view = params.get("view") or "all"
        priority = params.get("priority") or None
        return QueueView(
            view if view in VIEWS else "all",
            priority if priority in {p.value for p in Priority} else None,
        )

    def filters(self, user_id: int | None) -> QueueFilter:
        return QueueFilter(
            breached=True if self.view == "breached" else None,
            priority=self.priority,
            assignee_id=user_id if self.view == "mine" else None,
            unassigned=self.view == "unassigned",
        )

    def query(self) -> str:
        values = {"view": self.view, **({"priority": self.priority} if self.priority else {})}
        return urlencode(values)


async def render_list(
    runtime: Any, view: QueueView, user_id: int | None, csrf_token: str = ""
) -> str:
    """The list; pushed frames carry no token (queue.js fills it in), the page does."""
    now = runtime.clock()
    async with runtime.db.read() as session:
        rows = await queue(session, view.filters(user_id), now)
    template = runtime.env.get_template("support/_queue_list.html")
    return template.render(
        rows=rows,
        now=now,
        csrf_token=csrf_token,
        warning_minutes=runtime.settings.sla_policy.warning_minutes,
        status_of=lambda row: _status(row, now, runtime.settings.sla_policy.warning_minutes),
    )


def _status(row: QueueRow, now: Any, warning_minutes: int) -> str:
    if row.breached(now):
        return "breached"
    if row.warning(now, warning_minutes):
        return "warning"
    return "ok"


async def queue_panel(request: Request, staff: StaffContext) -> str:
    """The queue on the console home (a HOME_PANELS entry)."""
    runtime = request.app.state.runtime
    view = QueueView.of(request.query_params)
    listing = await render_list(runtime, view, staff.user.id, staff.csrf_token)
    return str(
        runtime.env.get_template("support/_queue.html").render(
            view=view,
            views=VIEWS,
            priorities=[p.value for p in Priority],
            listing=Markup(listing),  # noqa: S704 - rendered by our autoescaping template
            csrf_token=staff.csrf_token,
            ws_path="/support/ws/queue?" + view.query(),
        )
    )


class QueueHub:
    """This process's queue sockets; re-renders each one's list when the bell rings."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.sockets: dict[WebSocket, tuple[QueueView, int | None]] = {}
        self._lock = asyncio.Lock()
        self._pending = False
        runtime.inquiry_bell.listen(self.on_bell)

    async def on_bell(self, _ids: list[int]) -> None:
        # Quick for the publisher: the push runs in a task of its own, and rings that come
        # while one is being pushed fold into one more push.
        if self.sockets and not self._pending:
            self._pending = True
            asyncio.get_running_loop().create_task(self.push_all())

    async def push_all(self) -> None:
        async with self._lock:
            self._pending = False
            cache: dict[tuple[QueueView, int | None], str] = {}
            for websocket, (view, user_id) in list(self.sockets.items()):
                key = (view, user_id if view.view == "mine" else None)
                if key not in cache:
                    cache[key] = _frame(await render_list(self.runtime, view, user_id))
                await self.send(websocket, cache[key])

    async def send(self, websocket: WebSocket, frame: str) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await websocket.send_text(frame)
        except Exception:
            self.sockets.pop(websocket, None)
            with contextlib.suppress(Exception):
                await websocket.close(1013)


_hubs: weakref.WeakKeyDictionary[Any, QueueHub] = weakref.WeakKeyDictionary()


def hub_of(runtime: Any) -> QueueHub:
    hub = _hubs.get(runtime)
    if hub is None:
        hub = _hubs[runtime] = QueueHub(runtime)
    return hub


def _frame(listing: str) -> str:
    return f'<div id="queue-list" hx-swap-oob="true">{listing}</div>'


async def queue_socket(websocket: WebSocket) -> None:
    runtime = websocket.app.state.runtime
    if not origin_allowed(websocket.headers.get("origin"), runtime.settings.base_origin):
        await websocket.close(code=1008)
        return
    session = await active_session(websocket)
    if session is None:
        await websocket.close(code=1008)
        return
    view = QueueView.of(websocket.query_params)
    hub = hub_of(runtime)
    await websocket.accept()
    hub.sockets[websocket] = (view, session.user.id)
    try:
        await hub.send(websocket, _frame(await render_list(runtime, view, session.user.id)))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if len(message.get("text") or message.get("bytes") or "") > 1024:
                await websocket.close(code=1009)
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.sockets.pop(websocket, None)


@staff_page()
async def assign(request: Request, staff: StaffContext) -> Response:
    """POST /support/inquiries/{id}/assign: field ``assignee`` = ``me`` or empty (nobody)."""
    from ..services import inquiries as service

    runtime = request.app.state.runtime
    form = await request.form(max_files=0, max_fields=10, max_part_size=1024)
    inquiry_id = int(request.path_params["inquiry_id"])
    uow = runtime.new_uow()
    async with runtime.db.write() as session:
        inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
        if inquiry is None:
            return Response("no such inquiry", status_code=404)
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        who = staff.user.id if form.get("assignee") == "me" else None
        await service.assign(work, inquiry, who)
    await runtime.after_commit(uow)
    back = str(form.get("back") or "/support")
    return RedirectResponse(back if back.startswith("/support") else "/support", status_code=303)


HOME_PANELS.append(queue_panel)

routes = [
    WebSocketRoute("/support/ws/queue", queue_socket),
    Route("/support/inquiries/{inquiry_id:int}/assign", assign, methods=["POST"]),
]
