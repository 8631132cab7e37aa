"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

SQLAlchemy's aiosqlite dialect sends every cursor step (open, execute, fetch, close) to a worker
thread and back: four round trips through the event loop per statement. Under load each one waits
behind the other requests' callbacks, and since SQLite has one writer at a time, that wait
stretches the write lock for everybody. The statements this portal runs are small and indexed
(tens of microseconds each), so running them right here is cheaper than handing them off.

What must not block the loop is waiting for another process's lock: connections are opened with a
busy timeout of zero, and a statement refused with SQLITE_BUSY is retried after an asyncio sleep
(backing off to 20 ms) until ``timeout`` seconds have passed, then the error is raised as before.

This module is a facade with the subset of aiosqlite's interface that the dialect uses, handed to
``create_async_engine(..., async_creator=...)``: the dialect, its SQL and its types are unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
_FIRST_WAIT = 0.001
_LONGEST_WAIT = 0.02

T = TypeVar("T")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


async def _retry_busy(call: Callable[[], T], patience: float) -> T:
    """``call()``, retried after a non-blocking sleep while another connection holds a lock."""
    deadline: float | None = None
    wait = _FIRST_WAIT
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            now = time.monotonic()
            deadline = now + patience if deadline is None else deadline
            if now >= deadline:
                raise
            await asyncio.sleep(min(wait, deadline - now))
            wait = min(wait * 2, _LONGEST_WAIT)


class Cursor:
    """An aiosqlite-style cursor whose coroutines finish without leaving the thread."""

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        args = () if parameters is None else parameters
        await _retry_busy(lambda: self._cursor.execute(sql, args), self._connection.timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(parameters)
        await _retry_busy(lambda: self._cursor.executemany(sql, rows), self._connection.timeout)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Immediate:
    """Stands in for aiosqlite's request queue: runs the function now, answers its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class Connection:
    """An aiosqlite-style connection over one sqlite3 connection, used on the loop's thread."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _Immediate()
        self.timeout = timeout

    def cursor(self) -> Cursor:
        # aiosqlite returns an awaitable context manager here; the dialect enters it.
        return Cursor(self, self._conn.cursor())

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        await _retry_busy(self._conn.commit, self.timeout)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(path: str, *, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for create_async_engine: opens ``path`` for use on the loop."""

    async def connect() -> Connection:
        # Busy timeout zero: waiting for a lock happens in _retry_busy, off the thread.
        # check_same_thread off: the pool may close a connection from the garbage collector.
        raw = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        return Connection(raw, timeout)

    return connect
