"""Running uvicorn with the settings the live features need."""

from __future__ import annotations

from typing import Any

# Heartbeats notice dead peers; per-message compression stays off (memory and latency at
# 10,000 sockets); client frames are tiny, so 4 KiB is plenty.
WS_OPTIONS: dict[str, Any] = {
    "ws": "websockets-sansio",
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
