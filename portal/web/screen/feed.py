"""The order screens' source of frames for their hub (a follower of the customers' hub).

Both hubs hear the same order channels over one subscription. The customers' hub renders an
event's increment; this one reads the screen from the database and sends what changed (see
frames.py): the parts the doorbell names (portal.services.screen.bell), or every part for an
event. A doorbell that announces no new event (a notification sent, a page visit, a link
revoked) is a duplicate to the customers' hub, but a change here: so this source numbers its
frames with a version of its own per order instead of the event seq.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jinja2 import Environment

from realtime.hub import Frame

from ...services.screen.bell import bell_parts
from ...services.screen.view import ScreenView, read_screen_view
from ...services.timeline import Published
from .frames import EVERYTHING, EXTENSIONS, ScreenFrames
from .render import ScreenRenderer, render_extensions

if TYPE_CHECKING:
    from ...runtime import Runtime


class ScreenFeed:
    """realtime.hub.Source for order screens: topics are order numbers."""

    def __init__(self, env: Environment, runtime_of: Callable[[], Runtime]) -> None:
        # The runtime is built after its hubs, so the feed looks it up when it renders.
        self._runtime_of = runtime_of
        self.renderer = ScreenRenderer(env)
        self.frames = ScreenFrames(self.renderer)
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

    async def _load(self, topic: str, parts: frozenset[str] | None = None) -> ScreenView | None:
        async with self._runtime.db.engine.connect() as connection:
            return await read_screen_view(connection, topic, parts)

    async def _frame(
        self, topic: str, keys: frozenset[str] | None, *, snapshot: bool
    ) -> str | None:
        """The frame for ``topic``: every part (``keys`` None: a snapshot, or a repair sent to
        every viewer), else the changes in the parts named ``keys``."""
        runtime = self._runtime
        if keys is not None and self.frames.knows(topic):
            # Changes need only what their parts show (a read of those alone).
            screen = await self._load(topic, keys)
            if screen is None:
                return None
            wanted = EXTENSIONS in keys
            extensions = await render_extensions(runtime, screen, None) if wanted else None
            html = self.frames.changes(topic, screen, runtime.clock(), extensions, keys)
            if html is not None:
                return html
            # Forgotten meanwhile (other orders' frames): this one is whole, from a whole read.
        screen = await self._load(topic)
        if screen is None:
            return None
        extensions = await render_extensions(runtime, screen, None)
        return self.frames.whole(topic, screen, runtime.clock(), extensions, snapshot=snapshot)

    async def snapshot(self, topic: str) -> Frame:
        version = self._versions.get(topic, 0)
        html = await self._frame(topic, None, snapshot=True)
        return Frame(version, (html or "").encode())

    async def increments(self, topic: str, after_seq: int, message: bytes | None) -> list[Frame]:
        # A repair (message None: a gap, a reconnect, a retry) sends every part whole.
        keys = None if message is None else changed_parts(message)
        html = await self._frame(topic, keys, snapshot=False)
        if html is None:
            return []
        version = max(self._versions.get(topic, 0), after_seq) + 1
        self._versions[topic] = version
        # Maybe empty (nothing the doorbell named changed): still this version's frame.
        return [Frame(version, html.encode())]


def changed_parts(message: bytes) -> frozenset[str]:
    """What a doorbell says changed: the parts it names, or every part for an event (only
    their changes are sent); a ring that cannot be read still means "look"."""
    try:
        named = bell_parts(Published.decode(message).kind)
    except (ValueError, KeyError, TypeError):
        named = None
    return EVERYTHING if named is None else named
