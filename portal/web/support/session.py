"""Console sessions in the web layer: who is signed in, CSRF, and the staff_page decorator.

Every console route is declared with :func:`staff_page`; the handler then receives a
:class:`StaffContext` holding the signed-in user and the CSRF token, and renders with it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...domain.staff import Role, role_allows
from ...models import StaffUser
from ...security import constant_time_equal, sign
from ...services.staff_auth import ActiveSession, find_session, touch_session

SESSION_COOKIE = "portal_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NAV = (
    ("Queue", "/support", Role.AGENT),
    ("Calls", "/support/calls", Role.AGENT),
    ("Reports", "/support/reports", Role.AGENT),
    ("Audit", "/support/audit", Role.AGENT),
    ("Templates", "/support/templates", Role.ADMIN),
    ("Staff", "/support/staff", Role.ADMIN),
)


def csrf_for(secret_key: str, token_hash: str) -> str:
    """The CSRF token of one session: tied to it, so another session's token is refused."""
    return sign(secret_key, "staff-csrf", token_hash)


@dataclass(frozen=True, slots=True)
class StaffContext:
    """What a console handler gets: the signed-in user, the CSRF token, and a renderer."""

    request: Request
    user: StaffUser
    csrf_token: str
    session_id: int

    @property
    def is_admin(self) -> bool:
        return role_allows(self.user.role, Role.ADMIN)

    @property
    def name(self) -> str:
        """How actions by this user are recorded (the CRM log's ``staff``)."""
        return self.user.email

    def nav(self) -> list[dict[str, Any]]:
        path = self.request.url.path
        return [
            {
                "label": label,
                "href": href,
                "current": path == href or (href != "/support" and path.startswith(href + "/")),
            }
            for label, href, role in NAV
            if role_allows(self.user.role, role)
        ]

    def render(
        self,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """Render a template that extends support/base.html (staff, csrf_token, nav given)."""
        runtime = self.request.app.state.runtime
        full = {"staff": self, "csrf_token": self.csrf_token, "nav": self.nav(), **(context or {})}
        merged = {"Cache-Control": "no-store", **(headers or {})}
        return runtime.page(self.request, template, full, status=status, headers=merged)


async def active_session(conn: HTTPConnection) -> ActiveSession | None:
    """The live session of a request or websocket handshake, from the session cookie only.

    Authorization headers and share-link tokens are never looked at: an API key or a
    customer's link does not open the console.
    """
    token = conn.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    runtime = conn.app.state.runtime
    now = runtime.clock()
    async with runtime.db.read() as session:
        found = await find_session(session, token, now)
    if found is not None and found.needs_touch:
        async with runtime.db.write() as session:
            await touch_session(session, found.session_id, now)
    return found


def login_redirect(request: Request) -> Response:
    """No session: 303 to the login page (401 for htmx, which cannot show a redirect)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/support/login?next=" + quote(target, safe="/")
    if request.headers.get("hx-request") == "true":
        return Response("sign in again", status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def refusal(request: Request, status: int, title: str, message: str) -> Response:
    runtime = request.app.state.runtime
    return runtime.page(
        request,
        "support/refused.html",
        {"title": title, "message": message},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def cross_site(request: Request) -> bool:
    return request.headers.get("sec-fetch-site", "").lower() == "cross-site"


async def csrf_ok(request: Request, expected: str) -> bool:
    """The request carries ``expected`` (form field csrf_token or X-CSRF-Token header)."""
    if cross_site(request):
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    return given is not None and constant_time_equal(given, expected)


StaffHandler = Callable[[Request, StaffContext], Awaitable[Response]]


def staff_page(role: Role | str = Role.AGENT) -> Callable[[StaffHandler], Callable[..., Any]]:
    """Declare a console endpoint: session required, role checked, CSRF checked on POSTs.

    Without a session: 303 to /support/login?next=... (401 for htmx requests). A user whose
    role is too low: 403. A POST (any unsafe method) without the session's CSRF token, or
    sent with ``Sec-Fetch-Site: cross-site``: 403, and the handler does not run.
    """
    required = Role(role)

    def wrap(handler: StaffHandler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            found = await active_session(request)
            if found is None:
                return login_redirect(request)
            if not role_allows(found.user.role, required):
                return refusal(request, 403, "Not allowed", "This page is for administrators.")
            secret = request.app.state.runtime.settings.secret_key
            staff = StaffContext(
                request, found.user, csrf_for(secret, found.token_hash), found.session_id
            )
            if request.method not in SAFE_METHODS and not await csrf_ok(request, staff.csrf_token):
                return refusal(
                    request,
                    403,
                    "The form expired",
                    "This form was out of date or sent from another site. "
                    "Reload the page and try again.",
                )
            return await handler(request, staff)

        return endpoint

    return wrap


def session_cookie_kwargs(request: Request) -> dict[str, Any]:
    secure = request.app.state.runtime.settings.base_url.startswith("https://")
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/"}
