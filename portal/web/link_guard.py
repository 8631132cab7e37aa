"""Share-link guessing is rate limited per client: after UNKNOWN_TOKENS_PER_MINUTE unknown tokens
within a minute on `/t/...` (pages, forms, the websocket), that client's `/t/...` requests are
429 with Retry-After (a websocket upgrade too) until the minute has passed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from ..proxies import Network, client_address
from .ratelimit import RateLimiter

UNKNOWN_TOKENS_PER_MINUTE = 20
WINDOW_SECONDS = 60.0


class LinkGuard:
    """Counts one client's unknown tokens; time is passed in (monotonic seconds)."""

    def __init__(
        self, limit: int = UNKNOWN_TOKENS_PER_MINUTE, window: float = WINDOW_SECONDS
    ) -> None:
        self.limiter = RateLimiter(limit=limit, window=window)

    def miss(self, client: str, now: float) -> None:
        self.limiter.allow(client, now)

    def blocked(self, client: str, now: float) -> bool:
        return self.limiter.exceeded(client, now)


def _path_is_guarded(path: str) -> bool:
    return path.startswith("/t/")


class LinkGuardMiddleware:
    def __init__(self, app: ASGIApp, guard: LinkGuard) -> None:
        self.app = app
        self.guard = guard

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Handed on, not awaited here: no frame of this middleware's kept per open socket.
        if scope["type"] not in ("http", "websocket") or not _path_is_guarded(scope["path"]):
            return self.app(scope, receive, send)
        runtime = getattr(scope["app"].state, "runtime", None)
        trusted = runtime.settings.trusted_proxies if runtime is not None else ()
        if not self.guard.blocked(client_address(scope, trusted), time.monotonic()):
            return self.app(scope, receive, send)
        return _refuse(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"retry-after", str(int(WINDOW_SECONDS)).encode()),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"cache-control", b"no-store"),
    ]
    body = b"Too many unknown tracking links from your address. Try again in a minute.\n"
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1013})


def record_miss(scope: Scope, guard: LinkGuard | None, trusted: Sequence[Network]) -> None:
    """Count an unknown token for the client of ``scope``."""
    if guard is not None:
        guard.miss(client_address(scope, trusted), time.monotonic())
