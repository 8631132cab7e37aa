"""What guards the customer's pages: CSRF on every form, the not-valid-link page, and a page
view that never writes in the GET's path.

Every customer form carries a ``csrf_token`` (DESIGN "Fixed details of part two"); a missing or
wrong one, or a browser saying ``Sec-Fetch-Site: cross-site``, is 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..errors import Forbidden
from ..security import constant_time_equal, sign
from ..services.links import count_use, why_not_live
from .link_guard import record_miss

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
# Tracking pages opened before the field got its contract name still post `csrf`.
_LEGACY_FIELD = "csrf"
LOOKUP_TOKEN_SECONDS = 24 * 3600


class CsrfRefused(Forbidden):
    code = "csrf_failed"


def cross_site(request: Request) -> bool:
    return request.headers.get("sec-fetch-site", "").strip().lower() == "cross-site"


def check_csrf(request: Request, form: FormData, expected: str) -> None:
    """Raise CsrfRefused (403) unless the form carries ``expected`` and is not cross-site."""
    given = form.get(CSRF_FIELD) or form.get(_LEGACY_FIELD)
    if (
        cross_site(request)
        or not isinstance(given, str)
        or not constant_time_equal(given, expected)
    ):
        raise CsrfRefused("The form expired or came from elsewhere; reload the page and try again.")


def unsubscribe_csrf(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "unsubscribe", order_number)


def lookup_csrf(secret_key: str, now: float | None = None) -> str:
    """The lookup form's token: when it was issued, signed (the form has no session)."""
    issued = str(int(time.time() if now is None else now))
    return f"{issued}.{sign(secret_key, 'lookup', issued)}"


def check_lookup_csrf(
    request: Request, form: FormData, secret_key: str, now: float | None = None
) -> None:
    """As :func:`check_csrf` for the lookup form, whose token is good for a day."""
    given = form.get(CSRF_FIELD)
    issued = given.partition(".")[0] if isinstance(given, str) else ""
    current = time.time() if now is None else now
    fresh = issued.isdigit() and 0 <= current - int(issued) <= LOOKUP_TOKEN_SECONDS
    check_csrf(request, form, lookup_csrf(secret_key, int(issued)) if fresh else "\x00")


_WHY = {
    "expired": ("This tracking link has expired", "Tracking links last a limited time."),
    "revoked": ("This tracking link is no longer valid", "The shop has replaced this link."),
    "unknown": ("This tracking link is not valid", "Check that you copied the whole link."),
}


def link_gone_page(request: Request, why: str = "unknown") -> Response:
    """404: the link is not valid (any more), and how to get a new one; no order data."""
    runtime = request.app.state.runtime
    if why == "unknown":
        guard = getattr(request.app.state, "link_guard", None)
        record_miss(request.scope, guard, runtime.settings.trusted_proxies)
    title, detail = _WHY.get(why, _WHY["unknown"])
    return runtime.page(
        request,
        "link_gone.html",
        {
            "title": title,
            "detail": detail,
            "csrf_token": lookup_csrf(runtime.settings.secret_key),
        },
        status=404,
        headers={"Cache-Control": "no-store"},
    )


async def explain_gone(request: Request, token: str, now: datetime) -> Response:
    async with request.app.state.runtime.db.read() as session:
        why = await why_not_live(session, token, now)
    return link_gone_page(request, why)


_pending: set[asyncio.Task[None]] = set()


def count_view_later(
    runtime: Any, link_id: int, now: datetime, *, announce: Any | None = None
) -> None:
    """Count a page view after the answer, off the GET's path: it cannot fail or slow the page.

    ``announce``: a message published once the count is committed. A view that cannot be
    counted (the database busy past its wait) is logged and dropped.
    """

    async def count() -> None:
        try:
            async with runtime.db.write() as session:
                await count_use(session, link_id, now)
            if announce is not None:
                visit = runtime.new_uow()
                visit.published.append(announce)
                await runtime.after_commit(visit)
        except Exception:
            log.warning("a tracking page view of link %s was not counted", link_id, exc_info=True)

    task = asyncio.create_task(count(), name=f"count-view-{link_id}")
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def page_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", **(extra or {})}


async def views_counted() -> None:
    """Wait for the page views being counted now (for tests and an orderly shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
