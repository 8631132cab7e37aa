"""Admission for expensive catch-up work: at most ``limit`` at once, at most ``queue`` waiting.

A reconnect storm (thousands of sockets coming back after a deploy) must not queue without
bound: whoever would be the ``queue + 1``-th waiter is refused at once (:class:`Busy`), so its
socket can be closed with 1013 ("try again later") and its browser comes back after a jittered
backoff, instead of waiting in a line whose end it cannot see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Busy(Exception):
    """Every slot is taken and the wait queue is full: try again later."""


class Admission:
    """A semaphore with a bounded wait queue (pure asyncio; one per process)."""

    def __init__(self, limit: int, queue: int) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("limit must be at least 1 and queue at least 0")
        self._slots = asyncio.Semaphore(limit)
        self._limit = limit
        self._queue = queue
        self._running = 0
        self._waiting = 0
        self.refused = 0  # counter since start, for /metrics and tests

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the ``async with`` block; raises :class:`Busy` when it would have
        to wait behind ``queue`` others."""
        if self._running >= self._limit and self._waiting >= self._queue:
            self.refused += 1
            raise Busy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._slots.release()
