"""App fixtures on real databases: SQLite always, PostgreSQL when marked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from portal.app import create_app
from portal.db import Database
from portal.services.api_keys import WRITE_SCOPES, create_api_key
from portal.settings import Settings, load_settings
from tests.conftest import POSTGRES_URL

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtMTIzNDU2Nzg5MA=="


class FrozenClock:
    """A clock tests can move; starts at the real now so dates stay relative to today."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def fresh_postgres_database() -> tuple[str, Callable[[], Any]]:
    """A private database on the test server, so runs never see each other's rows."""
    name = "portal_t_" + uuid.uuid4().hex[:12]
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()

    async def drop() -> None:
        engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()

    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name, drop


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
        return
    url, drop = await fresh_postgres_database()
    try:
        yield url
    finally:
        await drop()


@pytest.fixture
def settings(database_url: str, instance_dir: Path, clean_env: None) -> Settings:
    base = load_settings({"PORTAL_INSTANCE_DIR": str(instance_dir), "PORTAL_SECRET_KEY": "x" * 40})
    return replace(
        base,
        database_url=database_url,
        instance=f"test-{uuid.uuid4().hex[:8]}",
        webhook_secrets={"generic": (WEBHOOK_SECRET,)},
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


class Portal:
    """A running app (lifespan entered) with an API client and helpers."""

    def __init__(
        self, app: Starlette, client: httpx.AsyncClient, api_key: str, clock: FrozenClock
    ) -> None:
        self.app = app
        self.client = client
        self.api_key = api_key
        self.clock = clock

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def post(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**self.auth, **headers})

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.auth)

    async def create_order(self, **overrides: Any) -> dict[str, Any]:
        answer = await self.post("/api/v1/orders", order_body(**overrides))
        assert answer.status_code == 201, answer.text
        return answer.json()


def order_body(**overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body: dict[str, Any] = {
        "order_number": "A" + uuid.uuid4().hex[:8].upper(),
        "customer": {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+14155552671",
            "locale": "en",
            "timezone": "Europe/London",
        },
        "items": [
            {"sku": "MUG-1", "name": "Blue mug", "quantity": 2},
            {"sku": "TEA-7", "name": "Tea", "quantity": 1},
        ],
        "promised_ship_by": (today + timedelta(days=2)).isoformat(),
        "promised_deliver_by": (today + timedelta(days=5)).isoformat(),
    }
    body.update(overrides)
    return body


async def add_api_key(database_url: str, scopes: str = WRITE_SCOPES) -> str:
    db = Database(database_url, pool_size=1)
    try:
        return await create_api_key(db, "tests", now=datetime.now(UTC), scopes=scopes)
    finally:
        await db.dispose()


async def migrated(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        await db.migrate()
    finally:
        await db.dispose()


@pytest.fixture
async def portal(settings: Settings, clock: FrozenClock) -> AsyncIterator[Portal]:
    await migrated(settings.database_url)
    key = await add_api_key(settings.database_url)
    app = create_app(settings, clock=clock, dispatcher=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            yield Portal(app, client, key, clock)


@pytest.fixture
async def agent(portal: Portal) -> AsyncIterator[Any]:
    """A signed-in console client for a new agent (tests.integration.staff_helpers.StaffClient)."""
    from tests.integration.staff_helpers import staff_client

    async with staff_client(portal, role="agent") as client:
        yield client


@pytest.fixture
async def admin(portal: Portal) -> AsyncIterator[Any]:
    """A signed-in console client for a new admin."""
    from tests.integration.staff_helpers import staff_client

    async with staff_client(portal, role="admin", address="198.51.100.22") as client:
        yield client
