"""The inline SQLite driver: waiting for another process's lock never blocks the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from portal import sqlite_inline
from portal.db import Database


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection standing in for another process, holding the write lock."""
    path = tmp_path / "locked.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.commit()
    setup.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    yield holder
    holder.close()


async def _ticks_while(awaitable: asyncio.Future[object] | asyncio.Task[object]) -> int:
    ticks = 0
    while not awaitable.done():
        ticks += 1
        await asyncio.sleep(0.005)
    return ticks


async def test_a_busy_writer_waits_off_the_loop_then_proceeds(
    tmp_path: Path, other_process: sqlite3.Connection
) -> None:
    connect = sqlite_inline.creator(str(tmp_path / "locked.db"), timeout=5)
    mine = await connect()
    cursor = mine.cursor()
    asyncio.get_running_loop().call_later(0.3, other_process.execute, "COMMIT")
    started = time.monotonic()
    task = asyncio.ensure_future(cursor.execute("BEGIN IMMEDIATE"))
    ticks = await _ticks_while(task)
    await task
    waited = time.monotonic() - started
    await cursor.execute("INSERT INTO t VALUES (2)")
    await mine.commit()
    await cursor.execute("SELECT count(*) FROM t")
    assert await cursor.fetchall() == [(2,)]
    await mine.close()
    assert waited >= 0.25
    # The loop kept running other work while the lock was held elsewhere.
    assert ticks >= 20


async def test_gives_up_with_the_busy_error_after_its_patience(
    tmp_path: Path, other_process: sqlite3.Connection
) -> None:
    connect = sqlite_inline.creator(str(tmp_path / "locked.db"), timeout=0.2)
    mine = await connect()
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await mine.cursor().execute("BEGIN IMMEDIATE")
    assert 0.2 <= time.monotonic() - started < 2
    await mine.close()


async def test_other_errors_are_raised_at_once(tmp_path: Path) -> None:
    mine = await sqlite_inline.creator(str(tmp_path / "x.db"), timeout=5)()
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await mine.cursor().execute("SELECT * FROM missing")
    assert time.monotonic() - started < 0.5
    await mine.close()


async def test_database_sessions_run_on_the_inline_driver(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'portal.db'}")
    try:
        async with db.write() as session:
            await session.execute(text("CREATE TABLE k (v TEXT)"))
            await session.execute(text("INSERT INTO k VALUES ('a'), ('b')"))
        async with db.read() as session:
            rows = (await session.execute(text("SELECT v FROM k ORDER BY v"))).all()
            raw = await (await session.connection()).get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_inline.Connection)
        assert [r.v for r in rows] == ["a", "b"]
        with pytest.raises(Exception, match="boom"):
            async with db.write() as session:
                await session.execute(text("INSERT INTO k VALUES ('c')"))
                raise RuntimeError("boom")
        async with db.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM k"))).scalar_one() == 2
    finally:
        await db.dispose()
