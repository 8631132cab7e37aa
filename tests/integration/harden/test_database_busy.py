"""SQLite locked by another writer past the wait: 503 database_busy with Retry-After, nothing
partly written, and the retry succeeds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from portal.models import Order, WebhookReceipt
from portal.settings import Settings
from tests.integration.conftest import Portal, order_body
from tests.integration.webhook_helpers import send_generic
from tests.integration.webhooks.conftest import ship


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/portal.db"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, db_busy_timeout=0.3)


@contextmanager
def other_writer(url: str) -> Iterator[None]:
    """Another process's write transaction, held until the block ends."""
    conn = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def count(portal: Portal, column: object) -> int:
    async with portal.runtime.db.read() as session:
        return int((await session.execute(select(func.count(column)))).scalar_one())


async def test_a_webhook_meeting_a_locked_database_is_503_and_the_retry_applies(
    portal: Portal, settings: Settings
) -> None:
    shipped = await ship(portal, "dhl")
    msg_id = "msg_busy_1"
    with other_writer(settings.database_url):
        answer = await send_generic(
            portal, shipped.tracking_number, "in_transit", "Departed", msg_id=msg_id
        )
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_busy"
    assert int(answer.headers["retry-after"]) >= 1
    assert await count(portal, col(WebhookReceipt.id)) == 0
    assert await shipped.checkpoints() == []

    answer = await send_generic(
        portal, shipped.tracking_number, "in_transit", "Departed", msg_id=msg_id
    )
    assert answer.status_code == 200, answer.text
    assert len(await shipped.checkpoints()) == 1


async def test_an_api_write_meeting_a_locked_database_is_503_and_the_retry_succeeds(
    portal: Portal, settings: Settings
) -> None:
    body = order_body()
    with other_writer(settings.database_url):
        answer = await portal.post("/api/v1/orders", body, **{"Idempotency-Key": "busy-1"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_busy"
    assert "retry-after" in answer.headers
    assert await count(portal, col(Order.id)) == 0

    answer = await portal.post("/api/v1/orders", body, **{"Idempotency-Key": "busy-1"})
    assert answer.status_code == 201, answer.text
    assert await count(portal, col(Order.id)) == 1
