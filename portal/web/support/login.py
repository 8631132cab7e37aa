"""Sign-in and sign-out of the support console (DESIGN.md "Support console")."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...domain.staff import retry_after_seconds, safe_next
from ...security import constant_time_equal, sign
from ...services.staff_auth import Locked, Refused, SignedIn, end_session, sign_in
from .session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    StaffContext,
    active_session,
    cross_site,
    refusal,
    session_cookie_kwargs,
    staff_page,
)

# Before sign-in there is no session to tie the CSRF token to: a random value in a short-lived
# cookie plays that part (the form's token is its HMAC), so a foreign site cannot sign a
# browser in to an account of its choosing.
LOGIN_COOKIE = "portal_login"
LOGIN_COOKIE_PATH = "/support/login"
WRONG = "The email or password is not right."


def _login_csrf(request: Request, nonce: str) -> str:
    return sign(request.app.state.runtime.settings.secret_key, "login-csrf", nonce)


def _form_page(
    request: Request,
    nonce: str,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    runtime = request.app.state.runtime
    response = runtime.page(
        request,
        "support/login.html",
        {
            "csrf_token": _login_csrf(request, nonce),
            "next_path": next_path,
            "email": email,
            "error": error,
            "notice": notice,
        },
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
    kwargs = session_cookie_kwargs(request) | {"path": LOGIN_COOKIE_PATH}
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, **kwargs)
    return response


async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    notice = "Your password is set. Sign in with it." if request.query_params.get("reset") else None
    return _form_page(request, nonce, next_path=next_path, notice=notice)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


async def login(request: Request) -> Response:
    runtime = request.app.state.runtime
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    token = _str(form.get(CSRF_FIELD))
    if (
        cross_site(request)
        or not nonce
        or not constant_time_equal(token, _login_csrf(request, nonce))
    ):
        return refusal(request, 403, "The form expired", "Reload the sign-in page and try again.")
    email, password = _str(form.get("email")), _str(form.get("password"))
    next_path = safe_next(_str(form.get("next")))
    now = runtime.clock()
    client = request.client.host if request.client else ""
    if not runtime.login_limiter.allow(client, now.timestamp()):
        return _form_page(
            request,
            nonce,
            next_path=next_path,
            email=email,
            error="Too many sign-in attempts from this address. Try again in a few minutes.",
            status=429,
            headers={"Retry-After": str(int(runtime.login_limiter.window))},
        )
    # A sign-in always gets a fresh session id; one the browser already held is ended.
    previous = await active_session(request)
    async with runtime.db.write() as session:
        result = await sign_in(session, email, password, now=now, client=client)
        if isinstance(result, SignedIn) and previous is not None:
            await end_session(session, previous.session_id, now)
    if isinstance(result, Locked):
        wait = retry_after_seconds(result.until, now)
        return _form_page(
            request,
            nonce,
            next_path=next_path,
            email=email,
            error="Too many failed sign-ins for this account. "
            f"Try again in {max(1, wait // 60)} minutes.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if isinstance(result, Refused):
        return _form_page(request, nonce, next_path=next_path, email=email, error=WRONG, status=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, **session_cookie_kwargs(request))
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
    return response


@staff_page()
async def logout(request: Request, staff: StaffContext) -> Response:
    runtime = request.app.state.runtime
    async with runtime.db.write() as session:
        await end_session(session, staff.session_id, runtime.clock())
    response = RedirectResponse("/support/login", status_code=303)
    kwargs = session_cookie_kwargs(request)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=kwargs["secure"], httponly=True, samesite="lax"
    )
    return response


routes = [
    Route("/support/login", login_form, methods=["GET"]),
    Route("/support/login", login, methods=["POST"]),
    Route("/support/logout", logout, methods=["POST"]),
]
