"""What an idle tracking socket keeps on the server, by the objects it leaves alive: no frame
of a pass-through middleware, no empty queue (a held socket is memory for hours, times 10,000)."""

from __future__ import annotations

import collections
import gc
import types

from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import Watcher

SOCKETS = 12
PASS_THROUGH = {"SecurityHeaders.__call__", "LinkGuardMiddleware.__call__", "BodyDeadline.__call__"}


def live_coroutines() -> collections.Counter[str]:
    gc.collect()
    return collections.Counter(
        o.cr_code.co_qualname for o in gc.get_objects() if isinstance(o, types.CoroutineType)
    )


async def test_a_held_socket_keeps_no_middleware_frame_and_no_empty_queue(
    make_portal: MakePortal,
) -> None:
    server, api = await make_portal()
    numbers = [await api.create_order() for _ in range(3)]
    origin = server.runtime.settings.base_origin
    watchers = [
        await Watcher.open(server.ws_url(numbers[n % 3][1]), origin) for n in range(SOCKETS)
    ]
    for watcher in watchers:
        await watcher.wait_for(1)
    await api.delay(numbers[0][0])  # an increment went out to some: their queues are gone too
    for watcher in watchers[::3]:
        await watcher.wait_for(2)
    held = live_coroutines()
    assert held["tracking_socket"] == SOCKETS  # the sockets are there...
    assert not {name: held[name] for name in PASS_THROUGH if held[name]}  # ...these are not
    readers = [
        o
        for o in gc.get_objects()
        if isinstance(o, types.CoroutineType) and o.cr_code.co_qualname == "_read_client"
    ]
    assert len(readers) == SOCKETS
    # The per-minute window of client frames is made at the first frame (the page sends none).
    assert all(r.cr_frame.f_locals["recent"] is None for r in readers)
    # Nothing queued for any viewer: no deque kept for it (an empty one is ~760 bytes).
    members = [m for m in gc.get_objects() if type(m).__name__ == "_Member"]
    assert len(members) == SOCKETS and all(m.backlog is None for m in members)
    for watcher in watchers:
        await watcher.close()
