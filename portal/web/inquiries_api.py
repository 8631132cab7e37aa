"""Inquiry API v1: the queue, one inquiry, opening one, messages, state and assignee
(DESIGN.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..domain.inquiries import InquiryChannel, InquiryState, Priority
from ..errors import NotFound, ValidationFailed
from ..models import StaffUser
from ..models_inquiries import Inquiry
from ..schemas_inquiries import (
    InquiryAssign,
    InquiryCreate,
    InquiryLink,
    InquiryMessageCreate,
    InquiryStateChange,
)
from ..services import inquiries as service
from ..services.inquiry_link import link_to_order
from ..services.inquiry_views import QueueFilter, inquiry_detail, inquiry_json, queue, queue_row
from ..services.timeline import UnitOfWork, lock_order
from .api import read_json
from .auth import require_api_key
from .idempotency import run_write


def _flag(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"{name} must be true or false")


async def list_inquiries(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in {s.value for s in InquiryState}:
        raise ValidationFailed(f"state must be one of {', '.join(s.value for s in InquiryState)}")
    priority = params.get("priority") or None
    if priority is not None and priority not in {p.value for p in Priority}:
        raise ValidationFailed(f"priority must be one of {', '.join(p.value for p in Priority)}")
    filters = QueueFilter(
        state=state, breached=_flag(params.get("breached"), "breached"), priority=priority
    )
    now = runtime.clock()
    async with runtime.db.read() as session:
        rows = await queue(session, filters, now)
    return JSONResponse({"inquiries": [inquiry_json(r, now) for r in rows]})


def _inquiry_id(request: Request) -> int:
    raw = request.path_params["inquiry_id"]
    if not raw.isdigit():
        raise NotFound(f"no inquiry {raw!r}")
    return int(raw)


async def get_inquiry(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        row = await queue_row(session, _inquiry_id(request))
        if row is None:
            raise NotFound("no such inquiry")
        return JSONResponse(await inquiry_detail(session, row, runtime.clock()))


async def _answer(
    session: AsyncSession, inquiry_id: int, now: Any, status: int
) -> tuple[int, dict[str, Any]]:
    await session.flush()
    row = await queue_row(session, inquiry_id)
    assert row is not None
    return status, await inquiry_detail(session, row, now)


async def _author(session: AsyncSession, staff: str | None, key_name: str) -> service.Author:
    if not staff:
        return service.Author(f"api:{key_name}")
    user = (
        await session.execute(select(StaffUser).where(col(StaffUser.email) == staff.lower()))
    ).scalar_one_or_none()
    return service.Author(staff, user.id if user else None)


async def create_inquiry(request: Request) -> Response:
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InquiryCreate)
    runtime = request.app.state.runtime
    if data.order_number is None and data.customer_email is None:
        raise ValidationFailed("give the order_number, or the customer_email for an unmatched one")

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        order = await lock_order(session, data.order_number) if data.order_number else None
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        new = service.NewInquiry(
            channel=data.channel,
            message=data.message,
            subject=data.subject,
            priority=data.priority,
            order=order,
            customer_email=data.customer_email,
            reply_channels="email,sms" if data.reply_by_sms else "email",
        )
        author = (
            service.Author("customer")
            if data.channel is InquiryChannel.WEB
            else service.Author(f"api:{key.name}")
        )
        inquiry = await service.open_inquiry(work, new, author)
        assert inquiry.id is not None
        return await _answer(session, inquiry.id, work.now, 201)

    return await run_write(request, key, body, handler)


async def _locked_inquiry(session: AsyncSession, inquiry_id: int) -> Inquiry:
    inquiry = await session.get(Inquiry, inquiry_id, with_for_update=True)
    if inquiry is None:
        raise NotFound("no such inquiry")
    return inquiry


async def add_message(request: Request) -> Response:
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InquiryMessageCreate)
    runtime = request.app.state.runtime
    inquiry_id = _inquiry_id(request)

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        inquiry = await _locked_inquiry(session, inquiry_id)
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        if data.direction == "outbound":
            author = await _author(session, data.staff, key.name)
            await service.add_reply(work, inquiry, data.body, author=author, via=data.via)
        else:
            who = service.Author(data.staff or inquiry.customer_email or "customer")
            await service.add_customer_message(
                work, inquiry, data.body, channel=data.channel, author=who
            )
        return await _answer(session, inquiry_id, work.now, 201)

    return await run_write(request, key, body, handler)


async def change_state(request: Request) -> Response:
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InquiryStateChange)
    runtime = request.app.state.runtime
    inquiry_id = _inquiry_id(request)

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        inquiry = await _locked_inquiry(session, inquiry_id)
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        author = service.Author(f"api:{key.name}")
        changed = await service.set_state(work, inquiry, data.state, author)
        status, payload = await _answer(session, inquiry_id, work.now, 200)
        payload["changed"] = changed
        return status, payload

    return await run_write(request, key, body, handler)


async def assign(request: Request) -> Response:
    """POST /api/v1/inquiries/{id}/assignee: ``assignee`` a staff user's email, or null."""
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InquiryAssign)
    runtime = request.app.state.runtime
    inquiry_id = _inquiry_id(request)

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        inquiry = await _locked_inquiry(session, inquiry_id)
        user = None
        if data.assignee:
            found = select(StaffUser).where(col(StaffUser.email) == data.assignee.lower())
            user = (await session.execute(found)).scalar_one_or_none()
            if user is None or user.disabled_at is not None:
                raise ValidationFailed(f"no active staff user {data.assignee!r}")
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        await service.assign(work, inquiry, user.id if user else None)
        return await _answer(session, inquiry_id, work.now, 200)

    return await run_write(request, key, body, handler)


async def link_order(request: Request) -> Response:
    """POST /api/v1/inquiries/{id}/order: an unmatched inquiry is about this order."""
    key = await require_api_key(request, "orders:write")
    data, body = await read_json(request, InquiryLink)
    runtime = request.app.state.runtime
    inquiry_id = _inquiry_id(request)

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        # The order first, then the inquiry: the order of locks every other writer keeps.
        order = await lock_order(session, data.order_number)
        inquiry = await _locked_inquiry(session, inquiry_id)
        work = service.Work(session, uow, runtime.settings.sla_policy, runtime.clock())
        author = await _author(session, data.staff, key.name)
        check = await link_to_order(work, inquiry, order, author, confirmed=data.confirm_sender)
        status, payload = await _answer(session, inquiry_id, work.now, 200)
        payload["sender_check"] = check.value
        return status, payload

    return await run_write(request, key, body, handler)


routes = [
    Route("/api/v1/inquiries", list_inquiries, methods=["GET"]),
    Route("/api/v1/inquiries", create_inquiry, methods=["POST"]),
    Route("/api/v1/inquiries/{inquiry_id}", get_inquiry, methods=["GET"]),
    Route("/api/v1/inquiries/{inquiry_id}/messages", add_message, methods=["POST"]),
    Route("/api/v1/inquiries/{inquiry_id}/state", change_state, methods=["POST"]),
    Route("/api/v1/inquiries/{inquiry_id}/order", link_order, methods=["POST"]),
    Route("/api/v1/inquiries/{inquiry_id}/assignee", assign, methods=["POST"]),
]
