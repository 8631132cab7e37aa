"""Share links over the API for the shop's CRM: list an order's links, revoke one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import NotFound
from ..services.links import link_json, links_of
from ..services.screen.actor import Actor
from ..services.screen.links import revoke_link
from ..services.timeline import UnitOfWork, lock_order
from .api import _find, read_json
from .auth import require_api_key
from .idempotency import run_write


class RevokeBody(BaseModel):
    """A revocation takes no fields; an empty body (or ``{}``) is expected."""

    model_config = ConfigDict(extra="forbid")


async def list_links(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        order = await _find(session, request.path_params["order_number"])
        assert order.id is not None
        links = [link_json(link) for link in await links_of(session, order.id)]
    return JSONResponse({"links": links})


def _link_id(request: Request) -> int:
    raw = request.path_params["link_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"no link {raw!r}")
    return int(raw)


async def revoke(request: Request) -> Response:
    """200 with the link (revoked); sockets on it here are closed at once, elsewhere within
    the revocation check's interval."""
    key = await require_api_key(request, "orders:write")
    link_id = _link_id(request)
    _, body = await read_json(request, RevokeBody, optional=True)
    runtime = request.app.state.runtime

    async def handler(session: AsyncSession, uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        order = await lock_order(session, request.path_params["order_number"])
        link = await revoke_link(
            session, uow, order, link_id, actor=Actor.api_key(key.name), now=runtime.clock()
        )
        return 200, link_json(link)

    answer = await run_write(request, key, body, handler)
    if answer.status_code == 200:
        await runtime.link_watch.close_link(link_id)
    return answer


routes = [
    Route("/api/v1/orders/{order_number}/links", list_links, methods=["GET"]),
    Route("/api/v1/orders/{order_number}/links/{link_id}/revoke", revoke, methods=["POST"]),
]
