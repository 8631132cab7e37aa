"""A separate `portal dispatch` process sends what another process queued, promptly:
woken by NOTIFY on PostgreSQL, by a short poll on SQLite."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import httpx

from portal.app import create_app
from portal.settings import Settings
from tests.integration.conftest import FrozenClock, Portal, add_api_key, migrated, order_body
from tests.integration.notifications.conftest import (
    Harness,
    SmsProvider,
    SmtpSink,
    dispatch_env,
    notify_settings,
    sms_server,
    smtp_server,
)

REPO = Path(__file__).resolve().parents[3]
BOUND = 1.0  # seconds from the API's answer to the email at the SMTP server


async def _received(harness: Harness, count: int, within: float) -> float:
    """Seconds until the SMTP server holds `count` messages (fails after `within`)."""
    started = time.monotonic()
    while len(harness.smtp.messages) < count:
        assert time.monotonic() - started < within, f"{len(harness.smtp.messages)} of {count}"
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def test_a_separate_dispatcher_sends_a_new_notice_within_a_second(
    harness: Harness, tmp_path: Path
) -> None:
    log = (tmp_path / "dispatch.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portal",
        "dispatch",
        cwd=REPO,
        env=dispatch_env(harness),
        stdout=log,
        stderr=log,
    )
    try:
        # Start-up (imports, LISTEN) is not what is measured: wait for a first notice.
        await harness.create_order(phone=None)
        await _received(harness, 1, within=60)
        waits = []
        for n in range(2, 6):
            await harness.create_order(phone=None)
            waits.append(await _received(harness, n, within=10))
            await asyncio.sleep(0.3)
        assert max(waits) < BOUND, waits
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()
    rows = await harness.rows()
    assert {r.state for r in rows} == {"sent"} and len(rows) == 5
    assert set(harness.smtp.message_ids().values()) == {1}


async def test_next_due_is_when_the_next_row_may_be_claimed(harness: Harness) -> None:
    dispatcher = harness.dispatcher(lease_seconds=60)
    assert await dispatcher.next_due() is None
    now = harness.clock()
    await harness.create_order(hour=23)  # the email is due now, the SMS after quiet hours
    assert await dispatcher.next_due() == now
    [email] = await dispatcher.claim()
    sms = next(r for r in await harness.rows() if r.channel == "sms")
    assert await dispatcher.next_due() == min(sms.due_at, now + dispatcher.lease)
    await dispatcher.deliver(email)
    assert await dispatcher.next_due() == sms.due_at


async def test_the_in_process_dispatcher_sends_a_new_notice_at_once(
    settings: Settings, clock: FrozenClock
) -> None:
    smtp, sms = SmtpSink(), SmsProvider()
    async with smtp_server(smtp) as smtp_port, sms_server(sms) as sms_url:
        wired = notify_settings(settings, f"smtp://127.0.0.1:{smtp_port}", sms_url)
        await migrated(wired.database_url)
        key = await add_api_key(wired.database_url)
        app = create_app(wired, clock=clock, dispatcher=True)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=wired.base_url) as client:
                portal = Portal(app, client, key, clock)
                waits = []
                for n in range(1, 5):
                    body = order_body()
                    body["customer"] = {**body["customer"], "phone": None}
                    answer = await portal.post("/api/v1/orders", body)
                    assert answer.status_code == 201, answer.text
                    started = time.monotonic()
                    while len(smtp.messages) < n:
                        assert time.monotonic() - started < 10
                        await asyncio.sleep(0.005)
                    waits.append(time.monotonic() - started)
    # The first notice also pays for first use (templates compiled, the SMTP connection
    # opened): what is measured is the wake-up, as for the separate dispatcher above.
    assert max(waits[1:]) < BOUND, waits
    assert set(smtp.message_ids().values()) == {1}
