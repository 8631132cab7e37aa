"""Run a coroutine at once, in the caller, and make a task of it only if it has to wait.

A broadcast sends one frame to thousands of sockets, and a send to a socket that can take
the bytes never waits. Starting a task per send (or waking a sender task per socket) costs a
scheduling round trip and several allocations each time; running the send right here costs
nothing extra. :func:`start_eagerly` does what Python 3.12's eager tasks do, on 3.11 too: the
coroutine runs until it finishes or first suspends, and only in the second case is the rest
handed to a task.

While the first part runs, :func:`asyncio.current_task` is still the caller's task, so a
coroutine given here must not depend on the current task before its first suspension (no
``asyncio.timeout`` at the very start, for instance).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` until it finishes (None) or suspends (a task that goes on with it).

    An exception raised before the first suspension propagates to the caller, as if the
    coroutine were a plain function.
    """
    try:
        awaited = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_go_on(coro, awaited))


async def _go_on(coro: Coroutine[Any, Any, None], awaited: Any) -> None:
    await _Resumed(coro, awaited)


class _Resumed:
    """Awaiting this goes on with ``coro``, which is suspended on ``awaited``.

    It hands ``awaited`` (a future, or None for a bare yield) to the task exactly as the
    coroutine had yielded it, then passes the task's wake-ups (a value, or an exception such
    as a cancellation) back into the coroutine until it returns.
    """

    __slots__ = ("_awaited", "_coro")

    def __init__(self, coro: Coroutine[Any, Any, None], awaited: Any) -> None:
        self._coro = coro
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, None]:
        coro, awaited = self._coro, self._awaited
        while True:
            try:
                value = yield awaited
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    awaited = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    awaited = coro.send(value)
                except StopIteration:
                    return
