"""Running uvicorn with the settings the live features need."""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# uvicorn and the websockets library log INFO lines per websocket handshake on "uvicorn.error"
# ("... [accepted]" and "connection open", or "403" and "connection rejected"): in a reconnect
# storm those were ~13% of the server's CPU per connect (py-spy, 1,000 sockets). The portal's
# sockets log through this child logger instead, quiet (WARNING) unless PORTAL_WS_ACCESS_LOG=1;
# warnings and errors still reach uvicorn's handlers.
WS_ACCESS_LOGGER = "uvicorn.error.websocket"
_ws_access_log = logging.getLogger(WS_ACCESS_LOGGER)


def set_ws_access_log(enabled: bool) -> None:
    """Log (INFO, like uvicorn) or not (WARNING and above only) each websocket handshake."""
    _ws_access_log.setLevel(logging.NOTSET if enabled else logging.WARNING)


class PortalWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, logging through :data:`WS_ACCESS_LOGGER`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger = _ws_access_log
        self.conn.logger = _ws_access_log  # the websockets library's own lines


set_ws_access_log(False)

# Heartbeats notice dead peers; per-message compression stays off (memory and latency at
# 10,000 sockets); client frames are tiny, so 4 KiB is plenty.
WS_OPTIONS: dict[str, Any] = {
    "ws": PortalWebSocketProtocol,  # websockets-sansio (see realtime/websocket.py)
    "ws_ping_interval": 20.0,
    "ws_ping_timeout": 20.0,
    "ws_max_size": 4096,
    "ws_per_message_deflate": False,
}


def uvicorn_kwargs(
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    app: Any = "portal.asgi:build",
) -> dict[str, Any]:
    """Arguments for uvicorn.run / uvicorn.Config serving the portal: `app` an application, or
    the import string of a factory (several workers each build their own)."""
    return {
        "app": app,
        "factory": isinstance(app, str),
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "lifespan": "on",
        # Forwarded headers are read by the app, from PORTAL_TRUSTED_PROXIES only
        # (portal/web/clients.py); uvicorn's own would trust 127.0.0.1 by default.
        "proxy_headers": False,
        # uvicorn's access log would print share-link tokens; the app logs redacted paths.
        "access_log": False,
        "timeout_graceful_shutdown": 5,
        **WS_OPTIONS,
    }
