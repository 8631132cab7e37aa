"""The database: engine, sessions, migrations. Built in the app's lifespan, never at import."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from . import sqlite_inline
from .services.sql_time import register_sqlite_functions

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class NotMigrated(RuntimeError):
    """The database schema is not at the latest migration."""


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off: SQLAlchemy's "begin" event below says
    # BEGIN itself, so a writer can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer. Waiting for another process's lock is
    # done by portal.sqlite_inline without blocking the event loop (busy_timeout stays 0).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    register_sqlite_functions(dbapi_connection)


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn: Connection) -> None:
    # Take the write lock at the start: two processes on one file then queue (busy_timeout)
    # instead of both reading the same next seq and one failing at commit.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# How long a SQLite statement waits for another process's write lock before it fails (and the
# request is answered 503 database_busy): PORTAL_DB_BUSY_TIMEOUT.
SQLITE_BUSY_WAIT = 10.0


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    for_writes: bool = False,
    busy_timeout: float = SQLITE_BUSY_WAIT,
) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = make_url(url).database or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, async_creator=sqlite_inline.creator(path, timeout=busy_timeout)
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _begin_immediate if for_writes else _begin)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_after_idle(engine)
    return engine


IDLE_PING_SECONDS = 1.0


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use when it sat idle for IDLE_PING_SECONDS or more.

    A database restarted behind the pool leaves its connections dead; the first request to use
    one would fail. SQLAlchemy's pool_pre_ping avoids that with a round trip on every checkout,
    a tenth of a webhook's cost here. A connection that was in use a moment ago is alive, and
    one that sat idle (long enough for a restart to have happened) is pinged; a failed ping
    renews every pooled connection. A restart while busy fails the statements in flight, as it
    must, and the pool renews its connections at the first disconnect error.
    """
    dialect = engine.sync_engine.dialect

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {error}") from error
        if not alive:
            raise InvalidatePoolError("ping failed")

    event.listen(engine.sync_engine, "checkin", on_checkin)
    event.listen(engine.sync_engine, "checkout", on_checkout)


class Database:
    """Sessions for reads and writes.

    SQLite allows one writer: writes inside this process are serialised by a lock so that
    concurrent requests queue instead of failing with 'database is locked'.
    """

    def __init__(
        self, url: str, *, pool_size: int = 10, busy_timeout: float = SQLITE_BUSY_WAIT
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, busy_timeout=busy_timeout)
        self.is_sqlite = url.startswith("sqlite")
        # SQLite writers get their own engine whose transactions begin IMMEDIATE.
        self.write_engine = (
            make_engine(url, for_writes=True, busy_timeout=busy_timeout)
            if self.is_sqlite
            else self.engine
        )
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._write_sessions = async_sessionmaker(
            self.write_engine, class_=AsyncSession, expire_on_commit=False
        )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction committed on success, rolled back on any exception."""
        if self._write_lock is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._write_sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision)

    async def is_migrated(self) -> bool:
        return await self.current_revision() == head_revision()

    async def migrate(self) -> None:
        async with self.write_engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
