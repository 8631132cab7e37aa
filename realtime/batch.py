"""Concurrent look-ups of single keys, answered by one query for all of them.

A reconnect storm brings thousands of sockets within seconds, each with a key to look up (a
share-link token). :class:`Batcher` answers every :meth:`Batcher.get` asked while a query is
running, or in the same turn of the event loop (or within ``window`` seconds of the first
ask, when a query is not running), with the next query: one at a time, at most ``max_batch``
keys each. Nothing is cached: each key is read from the store after it was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Batcher(Generic[K, V]):
    """``fetch(keys)`` returns the values found (a key missing from the answer: None)."""

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
        *,
        max_batch: int = 500,
        window: float = 0.0,
    ) -> None:
        if max_batch < 1 or window < 0:
            raise ValueError("max_batch must be at least 1 and window at least 0")
        self._window = window
        self._fetch = fetch
        self._max_batch = max_batch
        self._pending: dict[K, asyncio.Future[V | None]] = {}
        self._runner: asyncio.Task[None] | None = None
        self.keys = 0  # keys asked for (the same key asked twice at once counts once)
        self.queries = 0  # fetch calls

    async def get(self, key: K) -> V | None:
        future = self._pending.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[key] = future
            self.keys += 1
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        # Shielded: one caller giving up must not fail the others asking for the same key.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            # Let the callers of this turn of the loop (or of the window) join the first batch.
            await asyncio.sleep(self._window)
            while self._pending:
                keys = list(self._pending)[: self._max_batch]
                futures = [self._pending.pop(key) for key in keys]
                self.queries += 1
                try:
                    found = await self._fetch(keys)
                except Exception as exc:
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                            future.exception()  # retrieved: its caller may have gone
                    continue
                except BaseException:  # cancelled (shutdown): its callers must not hang
                    for future in futures:
                        future.cancel()
                    raise
                for key, future in zip(keys, futures, strict=True):
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            self._runner = None
