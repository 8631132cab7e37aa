"""`/support/staff` (admins): the staff users."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...domain.staff import Role
from ...models import StaffUser
from .session import StaffContext, staff_page


@staff_page(role=Role.ADMIN)
async def staff_list(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        users = list(
            (await session.execute(select(StaffUser).order_by(col(StaffUser.email)))).scalars()
        )
    return staff.render("support/staff.html", {"users": users})


routes = [Route("/support/staff", staff_list, methods=["GET"])]
