"""The ceiling for bench/ws_fanout.py: Redis pub/sub forwarded to websockets, nothing else.

No database, no tokens, no rendering, no sequence tracking: one pattern subscription per
process, a dict of topic -> sockets, and for every message the same text frame sent to each
socket of its topic. ``POST /publish/{topic}?seq=N&marker=M`` is the trigger: it publishes a
frame shaped like the portal's increments (``id="ev-N"``, ``bench-M``, padded to
``--frame-bytes``). Served by uvicorn with the portal's websocket settings.

    python bench/_bare_ws.py --port 9000 --redis redis://127.0.0.1:6379/0 --prefix bench-x
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from portal.server import WS_OPTIONS  # noqa: E402  (the same uvicorn settings as the portal)


def build(redis_url: str, prefix: str, frame_bytes: int) -> Starlette:
    sockets: dict[str, set[WebSocket]] = defaultdict(set)
    redis = Redis.from_url(redis_url)

    async def forward() -> None:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(f"{prefix}:*")
        async for message in pubsub.listen():
            if message.get("type") != "pmessage":
                continue
            topic = message["channel"].decode().split(":", 1)[1]
            text = message["data"].decode()
            for websocket in list(sockets.get(topic, ())):
                with contextlib.suppress(Exception):
                    await websocket.send_text(text)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(forward())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await redis.aclose()

    async def live(websocket: WebSocket) -> None:
        topic = websocket.path_params["topic"]
        await websocket.accept()
        sockets[topic].add(websocket)
        try:
            await websocket.send_text('<div id="live" hx-swap-oob="true"></div>')
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        except WebSocketDisconnect:
            return
        finally:
            members = sockets.get(topic)
            if members is not None:
                members.discard(websocket)
                if not members:
                    del sockets[topic]

    async def publish(request: Request) -> Response:
        topic = request.path_params["topic"]
        seq = int(request.query_params["seq"])
        marker = request.query_params.get("marker", "0")
        head = f'<div hx-swap-oob="afterbegin:#timeline"><li class="event" id="ev-{seq}">'
        body = f"<span>bench-{marker}</span>"
        tail = "</li></div>"
        padding = max(0, frame_bytes - len(head) - len(body) - len(tail))
        await redis.publish(f"{prefix}:{topic}", head + body + "x" * padding + tail)
        return Response(status_code=204)

    return Starlette(
        routes=[
            WebSocketRoute("/t/{topic}/ws", live),
            Route("/publish/{topic}", publish, methods=["POST"]),
            Route("/healthz", lambda request: Response("ok"), methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--frame-bytes", type=int, default=2000)
    args = parser.parse_args(argv)
    options: dict[str, Any] = {**WS_OPTIONS}
    uvicorn.run(
        build(args.redis, args.prefix, args.frame_bytes),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        **options,
    )


if __name__ == "__main__":
    main()
