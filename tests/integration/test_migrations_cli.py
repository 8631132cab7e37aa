"""Migrations on both databases, and the CLI commands a shop's operator runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from portal.app import create_app
from portal.db import Database, NotMigrated, head_revision
from portal.services.links import resolve_link
from portal.settings import Settings


async def test_upgrade_from_empty(settings: Settings) -> None:
    db = Database(settings.database_url, pool_size=1)
    try:
        assert await db.current_revision() is None
        assert not await db.is_migrated()
        await db.migrate()
        assert await db.current_revision() == head_revision()
        await db.migrate()  # idempotent
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert {
            "orders",
            "order_items",
            "shipments",
            "order_events",
            "share_links",
            "api_keys",
            "staff_users",
            "delays",
            "webhook_receipts",
            "notifications",
            "feedback",
            "idempotency_records",
        } <= tables
    finally:
        await db.dispose()


async def test_app_refuses_an_unmigrated_database(settings: Settings) -> None:
    app = create_app(settings, dispatcher=False)
    with pytest.raises(NotMigrated, match="portal migrate"):
        async with app.router.lifespan_context(app):
            pass


async def test_app_migrates_when_told(settings: Settings) -> None:
    app = create_app(settings, dispatcher=False, migrate=True)
    async with app.router.lifespan_context(app):
        assert await app.state.runtime.db.is_migrated()


def run_cli(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path, clean_env: None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["PORTAL_SECRET_KEY"] = "s" * 40
    return env


def test_cli_flow(cli_env: dict[str, str]) -> None:
    unmigrated = run_cli(["link", "X"], cli_env)
    assert unmigrated.returncode == 1 and "portal migrate" in unmigrated.stderr
    migrated = run_cli(["migrate"], cli_env)
    assert migrated.returncode == 0, migrated.stderr
    assert head_revision() in migrated.stdout
    created = run_cli(["api-key", "create", "shop"], cli_env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("pk_") and len(key) > 30
    user = run_cli(
        ["user", "create", "agent@example.com", "--role", "agent", "--password-stdin"],
        cli_env,
        stdin="a long enough password\n",
    )
    assert user.returncode == 0, user.stderr
    again = run_cli(
        ["user", "create", "agent@example.com", "--role", "agent", "--password-stdin"],
        cli_env,
        stdin="a long enough password\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    short = run_cli(
        ["user", "create", "b@example.com", "--role", "admin", "--password-stdin"],
        cli_env,
        stdin="short\n",
    )
    assert short.returncode == 1
    missing = run_cli(["link", "NOPE-1"], cli_env)
    assert missing.returncode == 1 and "NOPE-1" in missing.stderr
    listing = run_cli(["webhooks", "list", "--outcome", "dead_letter"], cli_env)
    assert listing.returncode == 0 and "0 receipt(s)" in listing.stdout
    audit = run_cli(["audit"], cli_env)
    assert audit.returncode == 0 and "0 finding(s)" in audit.stdout


async def test_cli_link_for_an_order(cli_env: dict[str, str]) -> None:
    assert run_cli(["migrate"], cli_env).returncode == 0
    url = f"sqlite+aiosqlite:///{cli_env['PORTAL_INSTANCE_DIR']}/portal.db"
    await place_order(url, "CLI-1")
    done = run_cli(["link", "CLI-1", "--days", "3"], cli_env)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("http://127.0.0.1:8000/t/") and len(link.rsplit("/", 1)[1]) >= 22
    db = Database(url, pool_size=1)
    try:
        async with db.read() as session:
            found = await resolve_link(session, link.rsplit("/", 1)[1], datetime.now(UTC))
        assert found is not None and found[1].order_number == "CLI-1"
        assert found[0].expires_at is not None
    finally:
        await db.dispose()


async def place_order(url: str, number: str) -> None:
    from dataclasses import replace

    from portal.schemas import OrderCreate
    from portal.services.orders import create_order
    from portal.services.outbox import Notifier
    from portal.services.timeline import UnitOfWork
    from portal.settings import load_settings

    settings = replace(
        load_settings({"PORTAL_SECRET_KEY": "s" * 40, "PORTAL_INSTANCE_DIR": "/tmp"}),
        database_url=url,
    )
    data = OrderCreate.model_validate(
        {
            "order_number": number,
            "customer": {"name": "A", "email": "a@example.com"},
            "items": [{"sku": "X", "name": "X", "quantity": 1}],
            "promised_ship_by": "2030-01-01",
            "promised_deliver_by": "2030-01-02",
        }
    )
    db = Database(url, pool_size=1)
    try:
        async with db.write() as session:
            await create_order(
                session,
                UnitOfWork(notifier=Notifier.from_settings(settings)),
                data,
                now=datetime.now(UTC),
                source="test",
            )
    finally:
        await db.dispose()


def test_cli_reports_bad_settings(cli_env: dict[str, str]) -> None:
    result = run_cli(["migrate"], {**cli_env, "PORTAL_DATABASE_URL": "mysql://x/y"})
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "PORTAL_DATABASE_URL" in result.stderr


def test_serve_refuses_unmigrated(cli_env: dict[str, str]) -> None:
    result = run_cli(["serve", "--port", "0"], cli_env)
    assert result.returncode == 1 and "portal migrate" in result.stderr
