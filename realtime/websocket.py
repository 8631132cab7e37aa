"""Starlette glue: serve one accepted WebSocket from the hub, and the Origin check.

The endpoint checks the token and :func:`origin_allowed` *before* accepting (a refused
upgrade is an HTTP 403 with no data), accepts, then hands the socket to :func:`pump`.

Server settings. Heartbeats and protocol limits belong to the server, not to this code; run
uvicorn (``uvicorn.run``/``uvicorn.Config``, or the matching CLI flags) with:

- ``ws_ping_interval=20.0`` and ``ws_ping_timeout=20.0``: the server pings every socket and
  drops one that does not answer, which is how dead and stuck clients get cleaned up (a close
  frame cannot reach a client that stopped reading).
- ``ws_max_size=4096`` (at least ``max_frame_bytes``): the protocol-level cap on an incoming
  message, so an oversized one is refused (1009) before it is buffered; the default is 16 MiB.
- ``ws_per_message_deflate=False``: compression keeps zlib state per connection (far beyond
  the ~50 KiB per connection budget) and would compress the shared frames once per socket.
- ``ws="websockets-sansio"`` (what ``"auto"`` picks when ``websockets`` is installed): its
  send waits while the socket's write buffer is full, which is what lets a slow client fill
  its hub queue and be closed with 1013 instead of growing memory. (The portal passes a
  subclass, ``portal.server.PortalWebSocketProtocol``, that only moves its logging.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.hub import Hub

CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009

_DEFAULT_PORTS = {"http": 80, "https": 443}


_last_decoded: tuple[bytes, str] = (b"", "")


def _as_text(data: bytes) -> str:
    """``data`` decoded, once per frame rather than once per socket.

    ASGI carries text frames as str. A broadcast hands the same bytes object to every viewer
    of an order, so the last one decoded is remembered (holding it keeps its identity unique).
    """
    global _last_decoded
    if _last_decoded[0] is not data:
        _last_decoded = (data, data.decode("utf-8"))
    return _last_decoded[1]


class SocketViewer:
    """A starlette :class:`WebSocket` as a :class:`realtime.hub.Viewer`."""

    __slots__ = ("_websocket",)

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    async def send(self, data: bytes) -> None:
        """Send ``data`` (UTF-8) as a text frame."""
        await self._websocket.send_text(_as_text(data))

    async def close(self, code: int) -> None:
        """Close with ``code``."""
        await self._websocket.close(code)


async def pump(
    websocket: WebSocket,
    hub: Hub,
    topic: str,
    *,
    max_frame_bytes: int = 1024,
    max_frames_per_second: float = 5.0,
    max_frames_per_minute: int | None = None,
    accept: Callable[[str | bytes], bool] | None = None,
) -> None:
    """Serve ``topic`` on an already accepted ``websocket`` until the client goes away.

    Sends the snapshot, then increments (via the hub). Reads and discards what the client
    sends: a message over ``max_frame_bytes`` closes with 1009, more than
    ``max_frames_per_second`` (bursts of that many allowed) or more than
    ``max_frames_per_minute`` in any 60 s closes with 1008, and so does a frame ``accept``
    refuses (one that is not what the page sends). The limits are the application's own, so
    they hold under any server's settings. Returns when the client disconnects or was closed;
    an exception from the source (snapshot) propagates.
    """
    if max_frame_bytes < 0 or max_frames_per_second <= 0:
        raise ValueError("max_frame_bytes must be >= 0 and max_frames_per_second > 0")
    violation: int | None = None
    try:
        async with hub.watch(topic, SocketViewer(websocket)):
            violation = await _read_client(
                websocket,
                _ClientLimits(
                    max_frame_bytes, max_frames_per_second, max_frames_per_minute, accept
                ),
            )
    except WebSocketDisconnect:
        # Starlette's send() turns a vanished client into this (the snapshot send is the one
        # that can meet it here): ordinary, not an error. Source errors still propagate.
        return
    # Closed after leaving the hub, so the hub's sender is no longer writing to the socket.
    if violation is not None:
        # The client may have closed meanwhile; then there is nothing to tell it.
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(violation)


@dataclass(frozen=True, slots=True)
class _ClientLimits:
    max_bytes: int
    rate: float
    per_minute: int | None
    accept: Callable[[str | bytes], bool] | None


async def _read_client(websocket: WebSocket, limits: _ClientLimits) -> int | None:
    """Read until disconnect (None) or a violation (its close code)."""
    loop = asyncio.get_running_loop()
    burst = max(1.0, limits.rate)
    tokens = burst
    refilled = loop.time()
    recent: deque[float] | None = None  # made at the first frame: most pages send none
    while True:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        if _too_big(message, limits.max_bytes):
            return CLOSE_MESSAGE_TOO_BIG
        # Token bucket: `rate` per second on average, up to `burst` back to back.
        now = loop.time()
        tokens = min(burst, tokens + (now - refilled) * limits.rate)
        refilled = now
        if tokens < 1.0:
            return CLOSE_POLICY_VIOLATION
        tokens -= 1.0
        if limits.per_minute is not None:
            if recent is None:
                recent = deque()
            while recent and recent[0] <= now - 60.0:
                recent.popleft()
            if len(recent) >= limits.per_minute:
                return CLOSE_POLICY_VIOLATION
            recent.append(now)
        if limits.accept is not None and not limits.accept(_payload(message)):
            return CLOSE_POLICY_VIOLATION


def _payload(message: Message) -> str | bytes:
    text = message.get("text")
    if text is not None:
        return str(text)
    data = message.get("bytes")
    return bytes(data) if data is not None else b""


def _too_big(message: Message, max_bytes: int) -> bool:
    text = message.get("text")
    if text is not None:
        # A str is at least as many bytes as characters: only encode when it could fit.
        return len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes
    data = message.get("bytes")
    return data is not None and len(data) > max_bytes


def _origin_key(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
            return None
        return scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # e.g. a port that is not a number
        return None


def origin_allowed(origin: str | None, allowed_origin: str) -> bool:
    """Whether a WebSocket upgrade's ``Origin`` header matches ``allowed_origin``.

    Compares scheme, host and port (default ports made explicit, case-insensitive host).
    ``allowed_origin`` may be a base URL with a path (``PORTAL_BASE_URL``). A missing,
    ``null`` or malformed Origin is refused: browsers always send one on WebSocket upgrades.
    """
    if not origin:
        return False
    got = _origin_key(origin)
    if got is None:
        return False
    parts = urlsplit(origin.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return False  # an Origin is scheme://host[:port] and nothing more
    return got == _origin_key(allowed_origin)
