"""The tests' one way to wait for something that happens in another task or process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, step: float = 0.005
) -> None:
    """Wait until ``predicate()`` (sync or async) holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in {timeout} s")
        await asyncio.sleep(step)
