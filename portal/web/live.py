"""The tracking page's websocket: the hub's source of frames, and the endpoint itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlmodel import col
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from realtime.batch import Batcher
from realtime.hub import Frame
from realtime.websocket import origin_allowed, pump

from ..db import Database
from ..models import ShareLink
from ..services.links import LinkTarget, read_link_targets
from ..services.timeline import Published
from ..services.views import OrderView, read_order_view_by_number
from ..services.views_batch import read_order_views_by_numbers
from ..settings import Settings
from .link_guard import record_miss
from .live_context import live_context
from .render import LiveContext, LiveRenderer

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger(__name__)

REVOCATION_CHECK_SECONDS = 10.0
# What the tracking page may send: nothing but an optional heartbeat, at most this often.
CLIENT_FRAMES_PER_MINUTE = 60
PAGE_FRAMES = frozenset({"ping"})


def is_page_frame(payload: str | bytes) -> bool:
    """The page's socket carries no data from the browser; a text ``ping`` is tolerated."""
    return isinstance(payload, str) and payload.strip() in PAGE_FRAMES


CLOSE_TIMEOUT_SECONDS = 5.0


SNAPSHOT_BATCH = 200  # orders per batched snapshot read (each statement an IN over them)


class OrderFeed:
    """realtime.hub.Source for orders: topics are order numbers, frames come from the database.

    Snapshots asked at the same moment for different orders (a reconnect storm) are read
    together, in one set of statements (:mod:`portal.services.views_batch`); nothing is cached.
    """

    def __init__(self, settings: Settings, db: Database, renderer: LiveRenderer) -> None:
        self._settings = settings
        self._db = db
        self._renderer = renderer
        self.views: Batcher[str, OrderView] = Batcher(
            self._load_many, max_batch=SNAPSHOT_BATCH, window=settings.ws_batch_window
        )

    def seq_of(self, topic: str, message: bytes) -> int:
        return Published.decode(message).seq

    def _context(self, order_number: str) -> LiveContext:
        return live_context(self._settings, order_number)

    async def _load(self, topic: str) -> OrderView | None:
        async with self._db.engine.connect() as connection:
            return await read_order_view_by_number(connection, topic)

    async def _load_many(self, topics: list[str]) -> dict[str, OrderView]:
        async with self._db.engine.connect() as connection:
            return await read_order_views_by_numbers(connection, topics)

    async def snapshot(self, topic: str) -> Frame:
        view = await self.views.get(topic)
        if view is None:
            return Frame(0, b"")
        html = self._renderer.snapshot(view, self._context(view.order_number))
        return Frame(view.last_seq, html.encode())

    async def increments(self, topic: str, after_seq: int, message: bytes | None) -> list[Frame]:
        # Increments are rendered from the database, not from the message: the message is a
        # doorbell, so a lost or repeated one can never make the page disagree with the truth.
        view = await self._load(topic)
        if view is None or view.last_seq <= after_seq:
            return []
        frames = self._renderer.increments(view, self._context(view.order_number), after_seq)
        return [Frame(seq, html.encode()) for seq, html in frames]


LINK_LOOKUP_BATCH = 500  # tokens per query (well under SQLite's 32,766 parameters)


def link_lookups(db: Database, window: float = 0.0) -> Batcher[str, LinkTarget]:
    """Share-link look-ups by token for the tracking socket: the connects of one moment (a
    reconnect storm; ``window`` seconds) share one query. Nothing is cached, so a revoked link
    is refused at once."""

    async def fetch(tokens: list[str]) -> dict[str, LinkTarget]:
        async with db.engine.connect() as connection:
            return await read_link_targets(connection, tokens)

    return Batcher(fetch, max_batch=LINK_LOOKUP_BATCH, window=window)


class LinkWatch:
    """Closes sockets whose share link was revoked or expired while they were open (1008)."""

    def __init__(self) -> None:
        self._sockets: dict[int, set[WebSocket]] = defaultdict(set)

    def add(self, link_id: int, websocket: WebSocket) -> None:
        self._sockets[link_id].add(websocket)

    def discard(self, link_id: int, websocket: WebSocket) -> None:
        sockets = self._sockets.get(link_id)
        if sockets is not None:
            sockets.discard(websocket)
            if not sockets:
                del self._sockets[link_id]

    async def close_link(self, link_id: int) -> int:
        """Close this process's sockets on a link just revoked here; how many there were.
        (Other processes' sockets are closed by their own next :meth:`check`.)"""
        doomed = list(self._sockets.get(link_id, ()))
        await asyncio.gather(*(_close_quietly(ws, 1008, "link revoked") for ws in doomed))
        return len(doomed)

    async def run(self, runtime: Runtime, interval: float | None = None) -> None:
        """Check every ``interval`` seconds (default: REVOCATION_CHECK_SECONDS, read per call)."""
        while True:
            await asyncio.sleep(REVOCATION_CHECK_SECONDS if interval is None else interval)
            try:
                await self.check(runtime)
            except Exception:
                log.exception("share-link revocation check failed")

    async def check(self, runtime: Runtime) -> None:
        ids = list(self._sockets)
        now = runtime.clock()
        doomed: list[WebSocket] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            async with runtime.db.read() as session:
                rows = await session.execute(
                    select(col(ShareLink.id)).where(
                        col(ShareLink.id).in_(chunk),
                        or_(
                            col(ShareLink.revoked_at).is_not(None), col(ShareLink.expires_at) <= now
                        ),
                    )
                )
                dead = [link_id for (link_id,) in rows.all() if link_id is not None]
            for link_id in dead:
                doomed.extend(self._sockets.get(link_id, ()))
        # Concurrently and each with a time limit: a client that stopped reading cannot take
        # a close frame, and must not hold up the others (or the next check).
        await asyncio.gather(*(_close_quietly(ws, 1008, "link revoked") for ws in doomed))


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    # The peer may already be gone, or too stuck to take a close frame: then the server's
    # ping timeout ends the connection.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
            await websocket.close(code=code, reason=reason)


async def tracking_socket(websocket: WebSocket) -> None:
    """WS /t/{token}/ws: refused at the handshake (403) for a bad token or a foreign Origin."""
    runtime = websocket.app.state.runtime
    if not origin_allowed(websocket.headers.get("origin"), runtime.settings.base_origin):
        await websocket.close(code=1008)
        return
    target = await runtime.link_lookups.get(websocket.path_params["token"])
    found = target.live_at(runtime.clock()) if target is not None else None
    if found is None:
        guard = getattr(websocket.app.state, "link_guard", None)
        record_miss(websocket.scope, guard, runtime.settings.trusted_proxies)
        await websocket.close(code=1008)
        return
    link_id, order_number = found
    await websocket.accept()
    runtime.link_watch.add(link_id, websocket)
    try:
        await pump(
            websocket,
            runtime.hub,
            order_number,
            max_frames_per_minute=CLIENT_FRAMES_PER_MINUTE,
            accept=is_page_frame,
        )
    finally:
        runtime.link_watch.discard(link_id, websocket)


routes = [WebSocketRoute("/t/{token}/ws", tracking_socket)]
