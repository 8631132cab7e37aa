"""`/support/reset/{token}`: set a password through a one-time link from an admin.

No session: the link itself is the credential. Its form's CSRF token is derived from the link,
and the page is never cached nor sent as a referrer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ...errors import ValidationFailed
from ...security import constant_time_equal, hash_token, sign
from ...services.staff_admin import find_reset, use_reset
from .session import CSRF_FIELD, cross_site, refusal

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _csrf(request: Request, token: str) -> str:
    return sign(request.app.state.runtime.settings.secret_key, "reset-csrf", hash_token(token))


def _gone(request: Request) -> Response:
    return refusal(
        request,
        404,
        "This link is not valid",
        "The link was used already, has expired or was replaced by a newer one. "
        "Ask an administrator for a new link.",
    )


def _form(request: Request, token: str, *, error: str | None = None, status: int = 200) -> Response:
    return request.app.state.runtime.page(
        request,
        "support/reset.html",
        {"csrf_token": _csrf(request, token), "error": error, "action": request.url.path},
        status=status,
        headers=_HEADERS,
    )


async def reset_form(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    async with runtime.db.read() as session:
        found = await find_reset(session, token, runtime.clock())
    return _gone(request) if found is None else _form(request, token)


async def reset_submit(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    given = form.get(CSRF_FIELD)
    if (
        cross_site(request)
        or not isinstance(given, str)
        or not constant_time_equal(given, _csrf(request, token))
    ):
        return refusal(request, 403, "The form expired", "Open the link again and retry.")
    password, repeat = form.get("password"), form.get("repeat")
    try:
        async with runtime.db.write() as session:
            user = await use_reset(
                session,
                token,
                password if isinstance(password, str) else "",
                repeat if isinstance(repeat, str) else "",
                now=runtime.clock(),
            )
    except ValidationFailed as exc:
        return _form(request, token, error=exc.message, status=422)
    if user is None:
        return _gone(request)
    return RedirectResponse("/support/login?reset=1", status_code=303)


routes = [
    Route("/support/reset/{token}", reset_form, methods=["GET"]),
    Route("/support/reset/{token}", reset_submit, methods=["POST"]),
]
