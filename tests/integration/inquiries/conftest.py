"""Inquiries on a portal wired to a real SMTP server and SMS endpoint (the notifications
harness), with a round-the-clock SLA policy so due times follow the test's frozen clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from portal.app import create_app
from portal.domain.business_time import BusinessCalendar, OpeningHours
from portal.domain.sla import SlaPolicy
from portal.models_inquiries import Inquiry, SlaEvent
from portal.runtime import Runtime
from portal.services.dispatch import build_channels
from portal.services.timeline import UnitOfWork
from portal.settings import Settings
from tests.integration.conftest import FrozenClock, Portal, add_api_key, migrated
from tests.integration.notifications.conftest import (
    Harness,
    SmsProvider,
    SmtpSink,
    notify_settings,
    sms_server,
    smtp_server,
)

ALWAYS_OPEN = SlaPolicy(
    calendar=BusinessCalendar("UTC", {d: (OpeningHours(0, 1440),) for d in range(7)}),
    name="always",
)
INBOUND = "support@shop.example"


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class Desk(Harness):
    """The harness plus inquiry helpers."""

    async def ask(
        self, order_number: str | None, message: str = "Where is my parcel?", **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message, "channel": "web", **extra}
        if order_number is not None:
            body["order_number"] = order_number
        return await self.post("/api/v1/inquiries", body)

    async def inquiry(self, inquiry_id: int) -> dict[str, Any]:
        answer = await self.portal.get(f"/api/v1/inquiries/{inquiry_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def reply(
        self, inquiry_id: int, body: str = "It is on its way.", **extra: Any
    ) -> dict[str, Any]:
        return await self.post(
            f"/api/v1/inquiries/{inquiry_id}/messages",
            {"direction": "outbound", "body": body, **extra},
        )

    async def events(self, inquiry_id: int, kind: str | None = None) -> list[SlaEvent]:
        async with self.portal.runtime.db.read() as session:
            stmt = select(SlaEvent).where(col(SlaEvent.inquiry_id) == inquiry_id)
            if kind:
                stmt = stmt.where(col(SlaEvent.kind) == kind)
            return list((await session.execute(stmt.order_by(col(SlaEvent.id)))).scalars())

    async def row(self, inquiry_id: int) -> Inquiry:  # type: ignore[override]
        async with self.portal.runtime.db.read() as session:
            found = await session.get(Inquiry, inquiry_id)
            assert found is not None
            return found

    def later(self, minutes: float) -> datetime:
        return self.clock() + timedelta(minutes=minutes)


def stop_background_watcher() -> None:
    """The app's breach watcher would act on the frozen clock whenever it gets a turn; tests
    drive it (runtime.breach_watcher) or watchers of their own instead."""
    for task in asyncio.all_tasks():
        if task.get_name() == "breach-watcher":
            task.cancel()


def desk_settings(settings: Settings, smtp_url: str, sms_url: str) -> Settings:
    return replace(
        notify_settings(settings, smtp_url, sms_url),
        sla_policy=ALWAYS_OPEN,
        inbound_address=INBOUND,
    )


@pytest.fixture
async def desk(settings: Settings, clock: FrozenClock) -> AsyncIterator[Desk]:
    smtp, sms = SmtpSink(), SmsProvider()
    async with smtp_server(smtp) as smtp_port, sms_server(sms) as sms_url:
        wired = desk_settings(settings, f"smtp://127.0.0.1:{smtp_port}", sms_url)
        await migrated(wired.database_url)
        key = await add_api_key(wired.database_url)
        app = create_app(wired, clock=clock, dispatcher=False)
        async with app.router.lifespan_context(app), build_channels(wired) as channels:
            stop_background_watcher()
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=wired.base_url) as client:
                yield Desk(Portal(app, client, key, clock), wired, smtp, sms, channels)


@pytest.fixture
def rung(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(order number, kind) of every doorbell a committed change announces."""
    published: list[tuple[str, str]] = []
    original = Runtime.after_commit

    async def watching(self: Runtime, uow: UnitOfWork) -> None:
        published.extend((p.order_number, p.kind) for p in uow.published)
        await original(self, uow)

    monkeypatch.setattr(Runtime, "after_commit", watching)
    return published
