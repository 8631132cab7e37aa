"""Inquiries benchmark: prints figures; it is not a test. (Written, not yet run here.)

Three parts (issue 14), on a fresh database:

- queue: N orders (default 100,000) and M open inquiries (default 10,000) with spread due
  times; the queue's statement (portal.services.inquiry_views.queue, what /support and
  GET /api/v1/inquiries run) 200 times; p50/p99. Target: p99 under 100 ms.
- breach: 1,000 inquiries whose first response falls due in the same minute, one
  BreachWatcher (the server's) running on the real clock; for each, the time from its due time
  to its breach event being recorded; p50/p99/max. Target: every one within 1 s.
- mail-in: `portal mail-in` in this process, MAILS mails (default 1,000) sent at RATE per
  second (default 50) over SMTP, open loop (each on its own connection, at most --in-flight at
  once); mails acknowledged vs rows kept (none may be lost), SMTP session p50 / p99.

    .venv/bin/python bench/inquiries.py                      # SQLite in a temporary folder
    .venv/bin/python bench/inquiries.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

The PostgreSQL database named must exist and be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import aiosmtplib  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from portal.db import Database  # noqa: E402
from portal.domain.business_time import BusinessCalendar, OpeningHours  # noqa: E402
from portal.domain.inquiries import Priority, SlaEventKind  # noqa: E402
from portal.domain.sla import DEFAULT_TARGETS, SlaPolicy, Targets  # noqa: E402
from portal.mail_in import start_mail_in  # noqa: E402
from portal.metrics import Metrics  # noqa: E402
from portal.models import Order, table_of  # noqa: E402
from portal.models_inquiries import InboundMail, Inquiry, SlaEvent  # noqa: E402
from portal.services.inquiry_views import QueueFilter, queue  # noqa: E402
from portal.services.inquiry_watch import BreachWatcher, InquiryBell  # noqa: E402
from portal.settings import load_settings  # noqa: E402

CHUNK = 5_000
POLICY = SlaPolicy(
    calendar=BusinessCalendar("UTC", {d: (OpeningHours(0, 1440),) for d in range(7)}),
    targets={**DEFAULT_TARGETS, Priority.URGENT: Targets(1, 1, 5)},
    name="bench",
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def seed_orders(db: Database, count: int, now: datetime) -> None:
    rows = [
        {"order_number": f"B{i:07d}", "status": "in_transit", "customer_name": f"C {i}",
         "customer_email": f"c{i}@example.com", "customer_email_norm": f"c{i}@example.com",
         "locale": "en", "timezone": "UTC", "opt_out_channels": "", "last_seq": 0,
         "created_at": now, "updated_at": now}
        for i in range(count)
    ]  # fmt: skip
    for start in range(0, count, CHUNK):
        async with db.write() as session:
            await session.execute(insert(table_of(Order)), rows[start : start + CHUNK])


def inquiry_row(
    order_id: int, created: datetime, due: datetime, priority: str
) -> dict[str, object]:
    return {
        "order_id": order_id, "channel": "web", "reply_channels": "email", "subject": "bench",
        "state": "open", "priority": priority, "policy": "bench", "created_at": created,
        "updated_at": created, "first_response_due_at": due, "first_response_state": "pending",
        "next_response_state": "pending", "resolution_due_at": due + timedelta(days=2),
        "resolution_state": "pending", "next_due_at": due, "breached": False,
    }  # fmt: skip


async def bench_queue(db: Database, orders: int, inquiries: int, now: datetime) -> None:
    rows = [
        inquiry_row(1 + (i * 7919) % orders, now, now + timedelta(minutes=i % 5000 - 500), "normal")
        for i in range(inquiries)
    ]
    for start in range(0, inquiries, CHUNK):
        async with db.write() as session:
            await session.execute(insert(table_of(Inquiry)), rows[start : start + CHUNK])
    times = []
    for _ in range(200):
        started = time.perf_counter()
        async with db.read() as session:
            await queue(session, QueueFilter(), now)
        times.append((time.perf_counter() - started) * 1000)
    print(f"queue ({inquiries} open, {orders} orders): p50 {statistics.median(times):.1f} ms, "
          f"p99 {pct(times, 0.99):.1f} ms")  # fmt: skip


async def bench_breach(db: Database, count: int, instance: str) -> None:
    now = datetime.now(UTC)
    due = now + timedelta(seconds=20)
    created = due - timedelta(minutes=1)  # urgent: one-minute first response
    rows = [inquiry_row(1 + i, created, due, "urgent") for i in range(count)]
    async with db.write() as session:
        await session.execute(insert(table_of(Inquiry)), rows)
    bell = InquiryBell(None, instance)
    await bell.start()
    watcher = BreachWatcher(db, POLICY, lambda: datetime.now(UTC), bell, Metrics())
    task = asyncio.create_task(watcher.run())
    await asyncio.sleep((due - datetime.now(UTC)).total_seconds() + 10)
    task.cancel()
    await bell.stop()
    async with db.read() as session:
        found = (
            await session.execute(
                select(SlaEvent.at, SlaEvent.recorded_at).where(
                    SlaEvent.kind == SlaEventKind.BREACH.value, SlaEvent.target == "first_response"
                )
            )
        ).all()
    lags = [(recorded - at).total_seconds() for at, recorded in found]
    if not lags:
        print("breach: none recorded")
        return
    p50, p99 = statistics.median(lags), pct(lags, 0.99)
    print(f"breach ({count} due in one minute): recorded {len(lags)}, lag p50 {p50:.3f} s, "
          f"p99 {p99:.3f} s, max {max(lags):.3f} s")  # fmt: skip


def _mail(i: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = f"c{i}@example.com", "support@shop.example"
    message["Subject"] = f"Question about B{i:07d}"
    message.set_content(f"Mail {i}")
    return message


async def bench_mail_in(settings: object, mails: int, rate: float, in_flight: int) -> None:
    """Open loop: mail i leaves at start + i / rate on its own SMTP connection (as several
    MTAs deliver), at most ``in_flight`` at once; a mail not acknowledged counts as failed."""
    server, _, close = await start_mail_in(settings, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = int(server.sockets[0].getsockname()[1])
    gate = asyncio.Semaphore(in_flight)
    answered: list[float] = []
    failed = 0

    async def send(i: int) -> None:
        nonlocal failed
        async with gate:
            began = time.perf_counter()
            try:
                await aiosmtplib.send(_mail(i), hostname="127.0.0.1", port=port, timeout=30)
            except (aiosmtplib.SMTPException, OSError):
                failed += 1
            else:
                answered.append(time.perf_counter() - began)

    started = time.perf_counter()
    tasks = []
    for i in range(mails):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    db = Database(settings.database_url)  # type: ignore[attr-defined]
    async with db.read() as session:
        kept = (await session.execute(select(func.count()).select_from(InboundMail))).scalar_one()
    await db.dispose()
    await close()
    answered.sort()
    p50, p99 = (answered[min(len(answered) - 1, int(q * len(answered)))] for q in (0.5, 0.99))
    print(f"mail-in: {len(answered)} acknowledged in {elapsed:.1f} s "
          f"({len(answered) / elapsed:.1f}/s of {rate:g}/s asked; SMTP session p50 "
          f"{p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms), {failed} failed, {kept} kept, "
          f"{len(answered) - kept} lost")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--inquiries", type=int, default=10_000)
    parser.add_argument("--breaches", type=int, default=1_000)
    parser.add_argument("--mails", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--in-flight", type=int, default=20, help="SMTP sessions at once")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-inquiries-"))
    url = args.database or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    settings = replace(
        load_settings({"PORTAL_INSTANCE_DIR": str(folder), "PORTAL_SECRET_KEY": "b" * 40}),
        database_url=url,
        sla_policy=POLICY,
        inbound_address="support@shop.example",
    )
    db = Database(url)
    await db.migrate()
    now = datetime.now(UTC)
    await seed_orders(db, args.orders, now)
    await bench_queue(db, args.orders, args.inquiries, now)
    async with db.write() as session:
        await session.execute(Inquiry.__table__.delete())  # type: ignore[attr-defined]
    await bench_breach(db, args.breaches, settings.instance)
    await db.dispose()
    await bench_mail_in(settings, args.mails, args.rate, args.in_flight)


if __name__ == "__main__":
    asyncio.run(main())
