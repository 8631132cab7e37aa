"""`GET /support/calls`: call tasks, due first; completing one logs its outcome in the CRM.

Also the console home's "Calls due" panel.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.interactions import InteractionOutcome
from ...errors import NotFound, PortalError
from ...models import Order
from ...models_screen import CallTask
from ...services.screen.calls import CallCompletion, complete_call, open_calls
from ...services.screen.forms import read_call
from ..support import StaffContext, staff_page
from ..support.home import HOME_PANELS
from .actions import actor_of, fragment, is_htmx, problems_of

HOME_PANEL_LIMIT = 5


async def _calls_page(
    request: Request,
    staff: StaffContext,
    *,
    errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        tasks = await open_calls(session, runtime.clock())
    done = request.query_params.get("done")
    return staff.render(
        "support/calls.html",
        {
            "tasks": tasks,
            "now": runtime.clock(),
            "outcomes": [o.value for o in InteractionOutcome],
            "errors": errors or {},
            "notice": "The call was recorded." if done else None,
        },
        status=status,
    )


@staff_page()
async def calls(request: Request, staff: StaffContext) -> Response:
    return await _calls_page(request, staff)


async def _timezone_of(request: Request, task_id: int) -> str:
    runtime = request.app.state.runtime
    stmt = (
        sa.select(col(Order.timezone))
        .join(CallTask, col(CallTask.order_id) == col(Order.id))
        .where(col(CallTask.id) == task_id)
    )
    async with runtime.db.read() as session:
        zone = (await session.execute(stmt)).scalar_one_or_none()
    if zone is None:
        raise NotFound(f"no call task {task_id}")
    return str(zone)


@staff_page()
async def complete(request: Request, staff: StaffContext) -> Response:
    raw = request.path_params["task_id"]
    task_id = int(raw) if raw.isdigit() and len(raw) < 18 else 0
    runtime = request.app.state.runtime
    form = await request.form(max_files=0, max_fields=20, max_part_size=8192)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    uow = runtime.new_uow()
    try:
        call = read_call(fields, await _timezone_of(request, task_id))
        done = CallCompletion(call.outcome, call.note, call.duration_s, call.reschedule_at)
        async with runtime.db.write() as session:
            await complete_call(
                session, uow, task_id, done, actor=actor_of(staff), now=runtime.clock()
            )
    except PortalError as exc:
        if is_htmx(request):
            return fragment(
                request,
                "support/_action_result.html",
                {"problems": problems_of(exc)},
                exc.status_code,
            )
        return await _calls_page(
            request, staff, errors={task_id: problems_of(exc)}, status=exc.status_code
        )
    await runtime.after_commit(uow)
    if is_htmx(request):
        message = "Rescheduled." if call.reschedule_at else "Recorded; the task is done."
        return fragment(request, "support/_action_result.html", {"message": message}, 200)
    return RedirectResponse("/support/calls?done=1", status_code=303)


async def calls_due_panel(request: Request, staff: StaffContext) -> str:
    """The home page's list of calls due now."""
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        due = await open_calls(session, runtime.clock(), limit=HOME_PANEL_LIMIT + 1, due_only=True)
    template = runtime.env.get_template("support/_calls_due.html")
    return template.render({"tasks": due[:HOME_PANEL_LIMIT], "more": len(due) > HOME_PANEL_LIMIT})


# The console home shows the inquiry queue first, then the calls due (DESIGN.md): the queue's
# module registers its panel when imported, so it is imported before this one registers.
from .. import queue as _queue  # noqa: E402, F401

HOME_PANELS.append(calls_due_panel)

routes = [
    Route("/support/calls", calls, methods=["GET"]),
    Route("/support/calls/{task_id}/complete", complete, methods=["POST"]),
]
