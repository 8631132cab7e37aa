"""Client frames on the tracking socket: only what the page sends, at most 60 a minute, small;
the limits are the app's, so they hold under a plain uvicorn with its default settings too."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn

from portal.web import live
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import InProcessPortal, Watcher


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/portal.db"


def plain_uvicorn(server: InProcessPortal) -> None:
    """Serve with uvicorn's defaults (16 MiB frames, no portal WS options), as
    `uvicorn portal.asgi:build --factory` would."""
    config = uvicorn.Config(
        server.app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"
    )
    server.server = uvicorn.Server(config)


@pytest.mark.parametrize("how", ["portal serve options", "plain uvicorn"])
@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (["ping", "hello"], 1008),
        (["ping", b"\x00\x01"], 1008),
        (["x" * 2000], 1009),
        (["ping"] * 3, None),
    ],
)
async def test_client_frames_are_limited(
    make_portal: MakePortal,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    frames: list[str | bytes],
    code: int | None,
) -> None:
    if how == "plain uvicorn":
        monkeypatch.setattr(InProcessPortal, "start", _start_plain(InProcessPortal.start))
    server, api = await make_portal()
    _, token = await api.create_order()
    watcher = await Watcher.open(server.ws_url(token), server.runtime.settings.base_origin)
    try:
        for frame in frames:
            await watcher.connection.send(frame)
            await asyncio.sleep(0.05)
        if code is None:
            await asyncio.sleep(0.3)
            assert not watcher.closed.is_set()
        else:
            assert await watcher.wait_closed(5) == code
    finally:
        await watcher.close()


async def test_more_frames_a_minute_than_allowed_close_the_socket(
    make_portal: MakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 60 in the portal (the unit tests count them exactly); 10 here keeps the test short.
    monkeypatch.setattr(live, "CLIENT_FRAMES_PER_MINUTE", 10)
    server, api = await make_portal()
    _, token = await api.create_order()
    watcher = await Watcher.open(server.ws_url(token), server.runtime.settings.base_origin)
    try:
        # Under the burst limit (5 a second), 11 pings within the minute.
        for _ in range(11):
            if watcher.closed.is_set():
                break
            await watcher.connection.send("ping")
            await asyncio.sleep(0.205)
        assert await watcher.wait_closed(5) == 1008
    finally:
        await watcher.close()


def _start_plain(start):  # type: ignore[no-untyped-def]
    async def wrapped(self: InProcessPortal) -> None:
        plain_uvicorn(self)
        await start(self)

    return wrapped
