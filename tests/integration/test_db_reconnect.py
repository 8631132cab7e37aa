"""PostgreSQL restarted behind the pool: idle connections are pinged and renewed, not used dead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from portal import db as db_module
from portal.db import Database
from tests.conftest import POSTGRES_URL
from tests.integration.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    url, drop = await fresh_postgres_database()
    db = Database(url, pool_size=2)
    try:
        yield db
    finally:
        await db.dispose()
        await drop()


async def _kill_connections(db: Database) -> int:
    """What a database restart does to the pool: every server connection of it is gone."""
    name = db.engine.url.database
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            return int(killed.scalar_one())
    finally:
        await admin.dispose()


async def _select_one(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_an_idle_connection_to_a_restarted_database_is_renewed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.05)
    assert await _select_one(database) == 1
    assert await _kill_connections(database) >= 1
    await asyncio.sleep(0.1)
    assert await _select_one(database) == 1


async def test_without_the_ping_the_dead_connection_would_fail_the_request(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 3600.0)
    assert await _select_one(database) == 1
    assert await _kill_connections(database) >= 1
    await asyncio.sleep(0.1)
    with pytest.raises(DBAPIError):
        await _select_one(database)
    # The disconnect renewed the pool: the next request works.
    assert await _select_one(database) == 1
