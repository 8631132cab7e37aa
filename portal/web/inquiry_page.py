"""`POST /t/{token}/inquiries`: the customer asks a question from the tracking page.

Fields ``message`` and ``csrf_token``. Works without JavaScript: the answer is a redirect back
to the page (303), which then shows the question and when we will answer. A follow-up while an
earlier question is still open joins that conversation. Rate limited per link (429); a wrong
or missing CSRF token, or a cross-site request, is 403; an empty or too long message shows the
page again with the reason (422). Nothing changes on a refusal.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..domain.inquiries import InquiryChannel, InquiryState
from ..models_inquiries import Inquiry
from ..security import hash_token
from ..services import inquiries as service
from ..services.links import resolve_link
from ..services.timeline import lock_order_by_id
from ..services.views import load_order_view
from .customer_guard import check_csrf, explain_gone, page_headers
from .pages import ASK_MAX_LENGTH, _render_tracking, inquiry_csrf
from .ratelimit import RateLimiter

# Per link: a few questions an hour is plenty for a person, and bounds what a leaked link can do.
ASK_LIMIT, ASK_WINDOW = 5, 3600.0
_limiter = RateLimiter(limit=ASK_LIMIT, window=ASK_WINDOW)


def _refused(request: Request, status: int, title: str, message: str) -> Response:
    return request.app.state.runtime.page(
        request,
        "error.html",
        {"title": title, "message": message},
        status=status,
        headers=page_headers(),
    )


async def ask(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = request.path_params["token"]
    now = runtime.clock()
    form = await request.form(max_files=0, max_fields=10, max_part_size=ASK_MAX_LENGTH * 4)
    async with runtime.db.read() as session:
        found = await resolve_link(session, token, now)
    if found is None:
        return await explain_gone(request, token, now)
    _, order = found
    check_csrf(request, form, inquiry_csrf(runtime.settings.secret_key, order.order_number))
    message = str(form.get("message") or "").strip()
    error = None
    if not message:
        error = "Write your question first."
    elif len(message) > ASK_MAX_LENGTH:
        error = f"Please keep your question under {ASK_MAX_LENGTH} characters."
    if error is not None:
        async with runtime.db.read() as session:
            view = await load_order_view(session, order)
        return _render_tracking(request, view, order, token, ask_error=error, status=422)
    if not _limiter.allow(hash_token(token), now.timestamp()):
        return _refused(
            request,
            429,
            "Too many questions",
            "We have your questions and will answer them here. Please wait a while before "
            f"sending more, or write to {runtime.settings.support_email}.",
        )
    uow = runtime.new_uow()
    async with runtime.db.write() as session:
        locked = await lock_order_by_id(session, order.id or 0)
        work = service.Work(session, uow, runtime.settings.sla_policy, now)
        author = service.Author(locked.customer_email)
        open_one = (
            await session.execute(
                select(Inquiry)
                .where(
                    col(Inquiry.order_id) == locked.id,
                    col(Inquiry.channel) == InquiryChannel.WEB.value,
                    col(Inquiry.state) != InquiryState.RESOLVED.value,
                )
                .order_by(col(Inquiry.id).desc())
                .limit(1)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if open_one is None:
            new = service.NewInquiry(channel=InquiryChannel.WEB, message=message, order=locked)
            await service.open_inquiry(work, new, author)
        else:
            await service.add_customer_message(
                work, open_one, message, channel=InquiryChannel.WEB, author=author
            )
    await runtime.after_commit(uow)
    return RedirectResponse(f"/t/{token}?asked=1", status_code=303)


routes = [Route("/t/{token}/inquiries", ask, methods=["POST"])]
