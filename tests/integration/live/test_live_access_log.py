"""uvicorn's line per websocket handshake is off unless PORTAL_WS_ACCESS_LOG=1 (its cost per
connect in a reconnect storm), while errors of the websocket protocol still reach the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from portal.app import create_app
from portal.server import WS_ACCESS_LOGGER, WS_OPTIONS, PortalWebSocketProtocol
from portal.settings import Settings, load_settings
from tests.integration.conftest import WEBHOOK_SECRET, FrozenClock, add_api_key, migrated
from tests.integration.live.helpers import Api, InProcessPortal


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def handshakes(self) -> list[str]:
        return [r.getMessage() for r in self.records if '"WebSocket ' in r.getMessage()]


@contextmanager
def listening() -> Iterator[Lines]:
    """Records of "uvicorn.error" and its children (uvicorn's loggers do not propagate to the
    root, and its logging set-up replaces their handlers: add this after uvicorn.Config)."""
    lines = Lines()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)


def test_the_setting_reads_the_environment() -> None:
    assert load_settings({"PORTAL_SECRET_KEY": "x" * 40}).ws_access_log is False
    env = {"PORTAL_SECRET_KEY": "x" * 40, "PORTAL_WS_ACCESS_LOG": "1"}
    assert load_settings(env).ws_access_log is True
    assert WS_OPTIONS["ws"] is PortalWebSocketProtocol


@pytest.mark.parametrize("enabled", [False, True])
async def test_handshake_lines_only_when_enabled(
    settings: Settings, clock: FrozenClock, enabled: bool
) -> None:
    await migrated(settings.database_url)
    key = await add_api_key(settings.database_url)
    app = create_app(replace(settings, ws_access_log=enabled), clock=clock, dispatcher=False)
    server = InProcessPortal(app, log_level="info")
    with listening() as uvicorn_lines:
        await server.start()
        try:
            await talk(server, key, clock)
        finally:
            await server.stop()
    lines = uvicorn_lines.handshakes()
    if enabled:
        assert len(lines) == 2, lines
        assert any(line.endswith("[accepted]") for line in lines)
        assert any(line.endswith(" 403") for line in lines)
        assert all("/t/<token>/ws" in line for line in lines)
        said = [r.getMessage() for r in uvicorn_lines.records]
        assert "connection open" in said and any("connection rejected" in m for m in said)
    else:
        assert lines == []
        assert not any("connection" in r.getMessage() for r in uvicorn_lines.records)
    # Either way, warnings and errors of the websocket protocol still get through.
    assert logging.getLogger(WS_ACCESS_LOGGER).isEnabledFor(logging.WARNING)
    # The server's own lines (its start, on uvicorn.error itself) are untouched.
    assert any(
        "Uvicorn running" in r.getMessage() or "Application startup" in r.getMessage()
        for r in uvicorn_lines.records
    )


async def talk(server: InProcessPortal, key: str, clock: FrozenClock) -> None:
    """One socket that gets its snapshot, one refused at the handshake (403)."""
    api = Api(server.base_url, key, WEBHOOK_SECRET, clock)
    try:
        _, token = await api.create_order()
        origin = server.runtime.settings.base_origin
        async with connect(server.ws_url(token), origin=origin, open_timeout=5) as ws:
            assert "live" in str(await ws.recv(decode=True))
        with pytest.raises(InvalidStatus):
            async with connect(server.ws_url(token[:-4] + "ZZZZ"), origin=origin, open_timeout=5):
                pytest.fail("the upgrade was accepted")
    finally:
        await api.aclose()
