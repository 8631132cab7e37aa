"""`WS /support/ws/orders/{order_number}`: the order screen's live updates.

Refused at the handshake (HTTP 403, no data) without a console session (the cookie only: a
share-link token or an API key never opens it), with a foreign or missing Origin, or for an
unknown order. Fed by the screens' hub, which follows the customers' hub over one broker
subscription: snapshot first, then a frame per change.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from realtime.websocket import origin_allowed, pump

from ...models import Order
from ...schemas import ORDER_NUMBER_RE
from ..support import active_session

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
    await pump(websocket, runtime.screen_hub, number)


routes = [WebSocketRoute("/support/ws/orders/{order_number}", screen_socket)]
