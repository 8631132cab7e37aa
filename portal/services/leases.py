"""A job that runs once per interval across every process, agreed through the database.

One row per job in ``scheduled_runs``. A process may start the job when nobody holds its lease
(or the holder's lease ran out: it died mid-run) and the last run finished at least one interval
ago. Taking the lease is one conditional UPDATE, atomic on SQLite (one writer) and on PostgreSQL
(the second updater waits for the first and re-checks the condition on the updated row), so two
processes that try at the same moment cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..models import table_of
from ..models_records import ScheduledRun

RUNS = table_of(ScheduledRun)


async def _ensure_row(session: AsyncSession, name: str) -> None:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(RUNS).values(name=name, runs=0).on_conflict_do_nothing())


async def try_start(
    db: Database,
    name: str,
    holder: str,
    *,
    interval: timedelta,
    lease: timedelta,
    now: datetime,
) -> bool:
    """Take the job's lease if it is due and free; True when this caller is to run it now."""
    take = (
        sa.update(RUNS)
        .where(
            RUNS.c.name == name,
            sa.or_(RUNS.c.lease_until.is_(None), RUNS.c.lease_until < now),
            sa.or_(RUNS.c.last_finished_at.is_(None), RUNS.c.last_finished_at <= now - interval),
        )
        .values(
            holder=holder,
            lease_until=now + lease,
            last_started_at=now,
            runs=RUNS.c.runs + 1,
        )
    )
    async with db.write() as session:
        await _ensure_row(session, name)
        result = await session.execute(take)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def finish(db: Database, name: str, holder: str, *, now: datetime, result: str) -> None:
    """Release the lease and note when the run ended (only the holder can)."""
    async with db.write() as session:
        await session.execute(
            sa.update(RUNS)
            .where(RUNS.c.name == name, RUNS.c.holder == holder)
            .values(lease_until=None, last_finished_at=now, last_result=result[:200])
        )


async def last_run(session: AsyncSession, name: str) -> ScheduledRun | None:
    return await session.get(ScheduledRun, name)
