"""The support console: sessions, sign-in, the console shell, and what features build on it.

Other modules declare console pages with :func:`staff_page` and render with
:meth:`StaffContext.render` on templates extending ``support/base.html``.
"""

from __future__ import annotations

from ...domain.staff import Role
from . import home, login, reset, search, staff_admin
from .session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    StaffContext,
    active_session,
    csrf_ok,
    staff_page,
)

routes = [
    *login.routes,
    *home.routes,
    *search.routes,
    *staff_admin.routes,
    *reset.routes,
]

__all__ = [
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "Role",
    "StaffContext",
    "active_session",
    "csrf_ok",
    "routes",
    "staff_page",
]
