"""`/support/staff` (admins): list staff users, create one, disable one, reset a password.

A new user and a password reset both give a one-time link, shown once on the page that answers
the action (only its hash is stored); the user sets their own password through it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.staff import RESET_LINK_TTL, Role
from ...errors import PortalError
from ...models import StaffUser
from ...services.staff_admin import IssuedReset, create_user, disable_user, reset_user
from .session import StaffContext, staff_page


async def _page(
    request: Request, staff: StaffContext, *, status: int = 200, **extra: Any
) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        users = list(
            (await session.execute(select(StaffUser).order_by(col(StaffUser.email)))).scalars()
        )
    context = {
        "users": users,
        "roles": [r.value for r in Role],
        "issued": None,
        "issued_url": None,
        "error": None,
        "form_email": "",
        "ttl_hours": int(RESET_LINK_TTL.total_seconds() // 3600),
        **extra,
    }
    return staff.render("support/staff.html", context, status=status)


def _issued(request: Request, issued: IssuedReset) -> dict[str, Any]:
    url = request.app.state.runtime.settings.url(issued.path())
    return {"issued": issued, "issued_url": url}


@staff_page(role=Role.ADMIN)
async def staff_list(request: Request, staff: StaffContext) -> Response:
    return await _page(request, staff)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


@staff_page(role=Role.ADMIN)
async def staff_create(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    form = await request.form()
    email = _str(form.get("email"))
    try:
        async with runtime.db.write() as session:
            issued = await create_user(
                session, email, _str(form.get("role")), by=staff.name, now=runtime.clock()
            )
    except PortalError as exc:
        return await _page(
            request, staff, status=exc.status_code, error=exc.message, form_email=email
        )
    return await _page(request, staff, status=201, **_issued(request, issued))


def _user_id(request: Request) -> int:
    return int(request.path_params["user_id"])


@staff_page(role=Role.ADMIN)
async def staff_disable(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    try:
        async with runtime.db.write() as session:
            await disable_user(
                session, _user_id(request), by_user_id=staff.user.id or 0, now=runtime.clock()
            )
    except PortalError as exc:
        return await _page(request, staff, status=exc.status_code, error=exc.message)
    return RedirectResponse("/support/staff", status_code=303)


@staff_page(role=Role.ADMIN)
async def staff_reset(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    try:
        async with runtime.db.write() as session:
            issued = await reset_user(
                session, _user_id(request), by=staff.name, now=runtime.clock()
            )
    except PortalError as exc:
        return await _page(request, staff, status=exc.status_code, error=exc.message)
    return await _page(request, staff, **_issued(request, issued))


routes = [
    Route("/support/staff", staff_list, methods=["GET"]),
    Route("/support/staff", staff_create, methods=["POST"]),
    Route("/support/staff/{user_id:int}/disable", staff_disable, methods=["POST"]),
    Route("/support/staff/{user_id:int}/reset", staff_reset, methods=["POST"]),
]
