"""`WS /support/ws/orders/{order_number}`: the order screen's live updates.

Refused at the handshake (HTTP 403, no data) without a console session (the cookie only: a
share-link token or an API key never opens it), with a foreign or missing Origin, or for an
unknown order. Fed by the screens' hub, which follows the customers' hub over one broker
subscription: snapshot first, then a frame per change. An open screen is closed (1008) within
SESSION_CHECK_SECONDS once its session ends: signed out, user disabled, or idle past the
session's limit (an open socket does not count as activity).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from realtime.websocket import origin_allowed, pump

from ...models import Order
from ...schemas import ORDER_NUMBER_RE
from ...services.staff_auth import find_session
from ..support import SESSION_COOKIE, active_session

log = logging.getLogger(__name__)
SESSION_CHECK_SECONDS = 30.0

_EXISTS = sa.select(col(Order.id)).where(col(Order.order_number) == sa.bindparam("number"))


async def screen_socket(websocket: WebSocket) -> None:
    runtime = websocket.app.state.runtime
    number = websocket.path_params["order_number"]
    if not origin_allowed(websocket.headers.get("origin"), runtime.settings.base_origin):
        await websocket.close(code=1008)
        return
    if await active_session(websocket) is None or not ORDER_NUMBER_RE.match(number):
        await websocket.close(code=1008)
        return
    async with runtime.db.engine.connect() as connection:
        found = (await connection.execute(_EXISTS, {"number": number})).first()
    if found is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    watch = asyncio.create_task(_close_when_session_ends(websocket, runtime))
    try:
        await pump(websocket, runtime.screen_hub, number)
    finally:
        watch.cancel()


async def _close_when_session_ends(websocket: WebSocket, runtime: Any) -> None:
    token = websocket.cookies.get(SESSION_COOKIE, "")
    while True:
        await asyncio.sleep(SESSION_CHECK_SECONDS)
        try:
            async with runtime.db.read() as session:
                live = await find_session(session, token, runtime.clock())
        except Exception:
            log.warning("could not check an order screen's session", exc_info=True)
            continue
        if live is None:
            with contextlib.suppress(Exception):
                await websocket.close(code=1008, reason="signed out")
            return


routes = [WebSocketRoute("/support/ws/orders/{order_number}", screen_socket)]
