"""The order screens' source of frames for their hub (a follower of the customers' hub).

Both hubs hear the same order channels over one subscription. The customers' hub renders an
event's increment; this one re-renders the screen's parts from the database. A doorbell that
announces no new event (a notification sent, a page visit, a link revoked: see
portal.services.screen.bell) is a duplicate to the customers' hub, but a change here: so this
source numbers its frames with a version of its own per order instead of the event seq.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jinja2 import Environment

from realtime.hub import Frame

from ...services.screen.view import ScreenView, read_screen_view
from .render import ScreenRenderer, render_extensions

if TYPE_CHECKING:
    from ...runtime import Runtime


class ScreenFeed:
    """realtime.hub.Source for order screens: topics are order numbers."""

    def __init__(self, env: Environment, runtime_of: Callable[[], Runtime]) -> None:
        # The runtime is built after its hubs, so the feed looks it up when it renders.
        self._runtime_of = runtime_of
        self.renderer = ScreenRenderer(env)
        # Per order, the version of the last frame rendered. Read before a snapshot's database
        # read and raised after an increment's, so a snapshot numbered v shows at least what
        # frame v showed.
        self._versions: dict[str, int] = {}

    def seq_of(self, topic: str, message: bytes) -> int:
        # Every message is a change to the screen: always the next version.
        return self._versions.get(topic, 0) + 1

    @property
    def _runtime(self) -> Runtime:
        return self._runtime_of()

    async def _load(self, topic: str) -> ScreenView | None:
        async with self._runtime.db.engine.connect() as connection:
            return await read_screen_view(connection, topic)

    async def _frame(self, topic: str) -> str | None:
        screen = await self._load(topic)
        if screen is None:
            return None
        runtime = self._runtime
        extensions = await render_extensions(runtime, screen, None)
        return self.renderer.frame(screen, runtime.clock(), extensions)

    async def snapshot(self, topic: str) -> Frame:
        version = self._versions.get(topic, 0)
        html = await self._frame(topic)
        return Frame(version, (html or "").encode())

    async def increments(self, topic: str, after_seq: int, message: bytes | None) -> list[Frame]:
        html = await self._frame(topic)
        if html is None:
            return []
        version = max(self._versions.get(topic, 0), after_seq) + 1
        self._versions[topic] = version
        return [Frame(version, html.encode())]
