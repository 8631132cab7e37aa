"""Notification dispatch benchmark: prints figures; it is not a test.

Part 1, backlog: N due notifications (half email, half SMS; copies of real rendered notices)
are sent by `portal dispatch --once` processes to a local SMTP sink (aiosmtpd that only counts)
and a local SMS endpoint (Starlette under uvicorn that only counts), both in a process of their
own. Printed: sends per second and the p50/p99 delay from each row's created_at (its triggering
event) to its send, on SQLite with 1 dispatcher and on PostgreSQL with 1 and 4.

Part 2, paced: `portal serve` runs (with its in-process dispatcher, or with `--no-dispatcher`
beside one separate `portal dispatch` process) while this script makes status changes through
the real API at a fixed rate (processing for every order over the first half of the run, then
packed over the second half). Printed: the achieved rate, the API latency, and
status-change-to-send p50/p99 (target: p99 under 2 s). A processing notice still unsent when
its order is packed is superseded, as it should be, and so is not counted in the latencies.

Everything listens on 127.0.0.1 only; every loop is bounded in count and in time.

    .venv/bin/python bench/notify_dispatch.py                 # the full run
    .venv/bin/python bench/notify_dispatch.py --rows 2000 --paced-seconds 10
    .venv/bin/python bench/notify_dispatch.py --databases sqlite   # SQLite only
    .venv/bin/python bench/notify_dispatch.py --rows 0 --rate 20   # only the paced part
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HOST = "127.0.0.1"
SMS_PATH = "/2010-04-01/Accounts/ACbench/Messages.json"
SMS_AUTH = "ACbench:bench-token"
EMAIL_FROM = "Bench Shop <no-reply@bench.example>"
SECRET = "bench-secret-" + "x" * 32
DEFAULT_POSTGRES = os.environ.get(
    "PORTAL_BENCH_POSTGRES_URL",
    os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


# --- the sinks, in a process of their own ----------------------------------------------------


class _CountingSmtp:
    """aiosmtpd handler: counts messages and repeated Message-IDs, keeps nothing else."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: set[bytes] = set()
        self.repeats = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        data = envelope.original_content or b""
        found = MESSAGE_ID.search(data[:4096])
        if found:
            if found.group(1) in self.ids:
                self.repeats += 1
            self.ids.add(found.group(1))
        return "250 2.0.0 Ok"

    def reset(self) -> None:
        self.count, self.repeats = 0, 0
        self.ids.clear()


def _run_sinks(conn: Connection) -> None:
    asyncio.run(_sinks(conn))


async def _sinks(conn: Connection) -> None:
    import uvicorn
    from aiosmtpd.smtp import SMTP
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    loop = asyncio.get_running_loop()
    smtp = _CountingSmtp()
    sms = {"count": 0}

    async def messages(request: Request) -> Response:
        await request.body()
        sms["count"] += 1
        return JSONResponse({"sid": f"SM{sms['count']:032d}"}, status_code=201)

    server = await loop.create_server(
        lambda: SMTP(smtp, hostname="localhost", loop=loop), HOST, 0, backlog=512
    )
    smtp_port = server.sockets[0].getsockname()[1]
    sock = socket.socket()
    sock.bind((HOST, 0))
    sms_port = sock.getsockname()[1]
    app = Starlette(routes=[Route(SMS_PATH, messages, methods=["POST"])])
    web = uvicorn.Server(
        uvicorn.Config(app, log_level="error", lifespan="off", ws="none", http="h11", backlog=512)
    )
    web_task = asyncio.create_task(web.serve(sockets=[sock]))
    for _ in range(1000):
        if web.started:
            break
        await asyncio.sleep(0.01)
    conn.send((smtp_port, sms_port))
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stats":
                conn.send({"email": smtp.count, "email_repeats": smtp.repeats, "sms": sms["count"]})
            elif command == "reset":
                smtp.reset()
                sms["count"] = 0
                conn.send("ok")
            else:
                break
    finally:
        web.should_exit = True
        await web_task
        server.close()
        await server.wait_closed()


class Sinks:
    """The sink process, seen from here."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_run_sinks, args=(child,), daemon=True)
        self._process.start()
        if not self._conn.poll(60):
            raise RuntimeError("the sink process did not start")
        self.smtp_port, self.sms_port = self._conn.recv()

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        if not self._conn.poll(30):
            raise RuntimeError("the sink process does not answer")
        return self._conn.recv()

    def stats(self) -> dict[str, int]:
        return dict(self._ask("stats"))

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


# --- databases and settings ------------------------------------------------------------------


@asynccontextmanager
async def database(kind: str, folder: Path, postgres_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database; dropped (PostgreSQL) when done."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from portal.db import Database

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        drop = None
    else:
        name = "portal_bench_" + uuid.uuid4().hex[:10]
        admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        url = postgres_url.rsplit("/", 1)[0] + "/" + name

        async def drop() -> None:
            engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await engine.dispose()

    db = Database(url, pool_size=2)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    try:
        yield url
    finally:
        if drop is not None:
            await drop()


def portal_env(url: str, sinks: Sinks, folder: Path, port: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=url,
        PORTAL_SMTP_URL=f"smtp://{HOST}:{sinks.smtp_port}",
        PORTAL_SMS_URL=f"http://{SMS_AUTH}@{HOST}:{sinks.sms_port}{SMS_PATH}",
        PORTAL_EMAIL_FROM=EMAIL_FROM,
        PORTAL_SMS_FROM="+15005550006",
        PORTAL_SHOP_NAME="Bench Shop",
        PORTAL_SUPPORT_EMAIL="help@bench.example",
        PORTAL_INSTANCE_DIR=str(folder),
        PORTAL_SECRET_KEY=SECRET,
        PORTAL_BASE_URL=f"http://{HOST}:{port or 8000}",
        PORTAL_INSTANCE=f"bench-{uuid.uuid4().hex[:6]}",
    )
    return env


def zone_at_noon(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so no SMS waits for quiet hours."""
    offset = (12 - now.hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def order_body(index: int, *, phone: bool) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "order_number": f"B{index:06d}{uuid.uuid4().hex[:4].upper()}",
        "customer": {
            "name": "Ada Lovelace",
            "email": f"customer{index}@example.com",
            "phone": "+14155552671" if phone else None,
            "locale": "en",
            "timezone": zone_at_noon(datetime.now(UTC)),
        },
        "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 2}],
        "promised_ship_by": (today + timedelta(days=2)).isoformat(),
        "promised_deliver_by": (today + timedelta(days=5)).isoformat(),
    }


async def add_api_key(url: str) -> str:
    from portal.db import Database
    from portal.models import ApiKey
    from portal.security import api_key_prefix, hash_token, new_api_key

    key = new_api_key()
    db = Database(url, pool_size=1)
    try:
        async with db.write() as session:
            session.add(
                ApiKey(
                    name="bench",
                    prefix=api_key_prefix(key),
                    key_hash=hash_token(key),
                    scopes="orders:read orders:write",
                    created_at=datetime.now(UTC),
                )
            )
    finally:
        await db.dispose()
    return key


async def seed_orders(url: str, env: dict[str, str], count: int, *, phone: bool) -> list[str]:
    """Create `count` orders through the API (in this process, no dispatcher); mark the
    confirmations they wrote as sent, so each part starts from an empty outbox."""
    import httpx
    from sqlalchemy import update

    from portal.app import create_app
    from portal.db import Database
    from portal.models import Notification
    from portal.settings import load_settings

    key = await add_api_key(url)
    app = create_app(load_settings(env), dispatcher=False)
    numbers: list[str] = []
    started = time.monotonic()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            for index in range(count):
                answer = await client.post(
                    "/api/v1/orders",
                    json=order_body(index, phone=phone),
                    headers={"Authorization": f"Bearer {key}"},
                )
                if answer.status_code != 201:
                    raise RuntimeError(f"seeding failed: {answer.status_code} {answer.text}")
                numbers.append(answer.json()["order_number"])
                if time.monotonic() - started > 600:
                    raise RuntimeError("seeding takes too long")
    db = Database(url, pool_size=1)
    try:
        async with db.write() as session:
            await session.execute(
                update(Notification).values(state="sent", sent_at=datetime.now(UTC))
            )
    finally:
        await db.dispose()
    return numbers


# --- part 1: a backlog of due notifications --------------------------------------------------


@dataclass
class BacklogResult:
    label: str
    rows: int
    sent: int
    states: Counter[str]
    wall: float
    span: float
    delays: list[float]
    sink: dict[str, int]
    retried: Counter[str]
    errors: Counter[str]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def notification_templates(url: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from portal.db import Database
    from portal.models import Notification

    db = Database(url, pool_size=1)
    try:
        async with db.read() as session:
            rows = (await session.execute(select(Notification))).scalars().all()
            return [r.model_dump(exclude={"id"}) for r in rows]
    finally:
        await db.dispose()


async def make_backlog(url: str, templates: list[dict[str, Any]], rows: int, run: str) -> None:
    """Replace the outbox with `rows` due copies of `templates`, created and due now."""
    from sqlalchemy import delete, insert, update

    from portal.db import Database
    from portal.models import Notification

    db = Database(url, pool_size=1)
    try:
        async with db.write() as session:
            await session.execute(delete(Notification))
        for start in range(0, rows, 1000):
            chunk = []
            for index in range(start, min(rows, start + 1000)):
                base = templates[index % len(templates)]
                chunk.append(
                    {
                        **base,
                        "idempotency_key": f"{base['idempotency_key']}:{run}-{index}",
                        "state": "pending",
                        "attempts": 0,
                        "errors": "[]",
                        "sent_at": None,
                        "provider_id": None,
                        "claimed_by": None,
                        "lease_until": None,
                    }
                )
            async with db.write() as session:
                await session.execute(insert(Notification), chunk)
        now = datetime.now(UTC)
        async with db.write() as session:
            await session.execute(update(Notification).values(created_at=now, due_at=now))
    finally:
        await db.dispose()


async def sent_rows(url: str, since: datetime | None = None) -> list[Any]:
    from sqlalchemy import select
    from sqlmodel import col

    from portal.db import Database
    from portal.models import Notification

    db = Database(url, pool_size=1)
    try:
        async with db.read() as session:
            stmt = select(
                col(Notification.state),
                col(Notification.created_at),
                col(Notification.sent_at),
                col(Notification.milestone),
                col(Notification.order_id),
                col(Notification.attempts),
                col(Notification.errors),
                col(Notification.channel),
            )
            if since is not None:
                stmt = stmt.where(col(Notification.created_at) >= since)
            return list((await session.execute(stmt)).all())
    finally:
        await db.dispose()


async def run_backlog(
    label: str,
    folder: Path,
    url: str,
    env: dict[str, str],
    sinks: Sinks,
    templates: list[dict[str, Any]],
    rows: int,
    dispatchers: int,
    timeout: float,
) -> BacklogResult:
    await make_backlog(url, templates, rows, uuid.uuid4().hex[:6])
    sinks.reset()
    started = time.monotonic()
    # Their logs go to files: a full pipe nobody reads would stall a dispatcher mid-send.
    logs = [open(folder / f"dispatch-{n}.log", "w+b") for n in range(dispatchers)]  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portal", "dispatch", "--once"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for log in logs
    ]
    problems: list[str] = []
    try:
        deadline = started + timeout
        for process, log in zip(processes, logs, strict=True):
            try:
                await asyncio.to_thread(process.wait, timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                problems.append("timed out")
                break
            if process.returncode != 0:
                log.seek(0)
                problems.append(log.read().decode(errors="replace")[-500:])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        for log in logs:
            log.seek(0)
            text = log.read().decode(errors="replace")
            for warning in ("lost the claim", "sent after its claim passed", "failed unexpectedly"):
                if warning in text:
                    problems.append(f"{text.count(warning)} x '{warning}'")
            log.close()
    wall = time.monotonic() - started
    if problems:
        print(f"  {label}: dispatcher problems: {problems}")
    result = await sent_rows(url)
    states = Counter(state for state, *_ in result)
    sent = [(created, sent_at) for state, created, sent_at, *_ in result if state == "sent"]
    delays = [(s - c).total_seconds() for c, s in sent]
    span = (
        (max(s for _, s in sent) - min(s for _, s in sent)).total_seconds() if len(sent) > 1 else 0
    )
    retried, errors = retries(result)
    return BacklogResult(
        label, rows, len(sent), states, wall, span, delays, sinks.stats(), retried, errors
    )


def retries(rows: list[Any]) -> tuple[Counter[str], Counter[str]]:
    """Rows sent on a later attempt, by channel; their recorded errors, shortened."""
    retried: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for row in rows:
        if row.attempts > 1:
            retried[row.channel] += 1
            for error in json.loads(row.errors or "[]"):
                errors[re.sub(r"[0-9]+", "N", str(error.get("error", "")))[:90]] += 1
    return retried, errors


def print_backlog(result: BacklogResult) -> None:
    d = result.delays
    print(
        f"  {result.label:<28} {result.sent:>6}/{result.rows} sent  "
        f"{result.sent / result.wall:7.1f} sends/s (wall {result.wall:6.1f} s, incl. start-up; "
        f"{result.sent / result.span if result.span else math.nan:7.1f}/s between first and "
        f"last send)  delay p50 {percentile(d, 0.5):6.2f} s  p99 {percentile(d, 0.99):6.2f} s"
    )
    other = {k: v for k, v in result.states.items() if k != "sent"}
    print(
        f"  {'':<28} sink: {result.sink['email']} emails "
        f"({result.sink['email_repeats']} repeated Message-IDs), {result.sink['sms']} SMS"
        + (f"; not sent: {dict(other)}" if other else "")
    )
    if result.retried:
        print(
            f"  {'':<28} sent on a later attempt: {dict(result.retried)}; "
            f"errors: {dict(result.errors.most_common(3))}"
        )


# --- part 2: status changes at a fixed rate through the real API -------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def wait_until_up(url: str, deadline: float) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def outbox_settled(url: str, since: datetime, deadline: float) -> bool:
    from sqlalchemy import func, select
    from sqlmodel import col

    from portal.db import Database
    from portal.models import Notification

    db = Database(url, pool_size=1)
    try:
        while time.monotonic() < deadline:
            async with db.read() as session:
                waiting = (
                    await session.execute(
                        select(func.count()).where(
                            col(Notification.created_at) >= since,
                            col(Notification.state).in_(("pending", "sending", "failed")),
                        )
                    )
                ).scalar_one()
            if not waiting:
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        await db.dispose()


async def run_paced(
    label: str,
    url: str,
    sinks: Sinks,
    folder: Path,
    *,
    separate: bool,
    rate: float,
    seconds: float,
) -> None:
    import httpx

    port = free_port()
    env = portal_env(url, sinks, folder, port)
    changes_per_order = 2
    orders = max(1, int(rate * seconds / changes_per_order))
    print(f"  {label}: seeding {orders} orders ...", flush=True)
    numbers = await seed_orders(url, env, orders, phone=False)
    key = await add_api_key(url)
    serve = [sys.executable, "-m", "portal", "serve", "--host", HOST, "--port", str(port)]
    if separate:
        serve.append("--no-dispatcher")
    log = open(folder / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    processes = [subprocess.Popen(serve, cwd=REPO, env=env, stdout=log, stderr=log)]
    if separate:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "portal", "dispatch"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
        )
    try:
        await wait_until_up(f"http://{HOST}:{port}/healthz", time.monotonic() + 60)
        await asyncio.sleep(1.0)
        sinks.reset()
        since = datetime.now(UTC)
        plan = [(n, "processing") for n in numbers] + [(n, "packed") for n in numbers]
        interval = 1.0 / rate
        latencies: list[float] = []
        failures: Counter[str] = Counter()
        in_flight = asyncio.Semaphore(256)
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(
            base_url=f"http://{HOST}:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            limits=limits,
        ) as client:

            async def change(number: str, status: str) -> None:
                async with in_flight:
                    begun = time.monotonic()
                    try:
                        answer = await client.post(
                            f"/api/v1/orders/{number}/status", json={"status": status}
                        )
                    except httpx.HTTPError as exc:
                        failures[type(exc).__name__] += 1
                        return
                    latencies.append(time.monotonic() - begun)
                    if answer.status_code != 200:
                        failures[str(answer.status_code)] += 1

            started = time.monotonic()
            tasks = []
            # processing for every order over the first half, packed over the second half
            for index, (number, status) in enumerate(plan):
                due = started + index * interval
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.monotonic() - started > seconds * 3:
                    failures["not sent: fell behind"] += len(plan) - index
                    break
                tasks.append(asyncio.create_task(change(number, status)))
            _, unfinished = await asyncio.wait(tasks, timeout=120) if tasks else (set(), set())
            for task in unfinished:
                task.cancel()
            if unfinished:
                failures["unanswered after 120 s"] += len(unfinished)
                await asyncio.wait(unfinished, timeout=10)
            elapsed = time.monotonic() - started
        settled = await outbox_settled(url, since, time.monotonic() + 120)
        rows = await sent_rows(url, since)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()
    states = Counter(state for state, *_ in rows)
    delays = [(s - c).total_seconds() for state, c, s, *_ in rows if state == "sent"]
    made = len(latencies)
    print(
        f"  {label:<28} {made} status changes in {elapsed:5.1f} s "
        f"({made / elapsed:5.1f}/s; asked {rate:.0f}/s)  "
        f"API p50 {percentile(latencies, 0.5):.3f} s p99 {percentile(latencies, 0.99):.3f} s"
        + (f"  failures {dict(failures)}" if failures else "")
    )
    print(
        f"  {'':<28} change-to-send p50 {percentile(delays, 0.5):6.2f} s  "
        f"p99 {percentile(delays, 0.99):6.2f} s  max {max(delays, default=math.nan):6.2f} s  "
        f"notices {dict(states)}  sink {sinks.stats()}"
        + ("" if settled else "  (outbox still not empty after 120 s)")
    )


# --- main ------------------------------------------------------------------------------------


async def postgres_reachable(url: str) -> bool:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        print(f"PostgreSQL at {url} is not reachable ({type(exc).__name__}); skipping it")
        return False
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    print(
        f"notify_dispatch bench: {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )
    kinds = [k for k in args.databases.split(",") if k == "sqlite"]
    if "postgres" in args.databases.split(",") and await postgres_reachable(args.postgres):
        kinds.append("postgres")
    folder = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    sinks = Sinks()
    try:
        if args.rows:
            print(f"\nbacklog: {args.rows} due notifications (half email, half SMS)")
            for kind in kinds:
                async with database(kind, folder, args.postgres) as url:
                    env = portal_env(url, sinks, folder)
                    await seed_orders(url, env, 20, phone=True)
                    templates = await notification_templates(url)
                    counts = [1] if kind == "sqlite" else [1, 4]
                    for count in counts:
                        result = await run_backlog(
                            f"{kind}, {count} dispatcher{'s' if count > 1 else ''}",
                            folder,
                            url,
                            env,
                            sinks,
                            templates,
                            args.rows,
                            count,
                            timeout=args.timeout,
                        )
                        print_backlog(result)
        if args.paced_seconds > 0:
            print(
                f"\npaced: {args.rate:.0f} status changes/s for {args.paced_seconds:.0f} s "
                "through the API (each order: processing, then packed)"
            )
            for kind in kinds:
                modes = args.paced.split(",")
                setups = [False] if "inproc" in modes else []
                if "separate" in modes:
                    setups.append(True)
                for separate in setups:
                    async with database(kind, folder, args.postgres) as url:
                        where = "separate dispatcher" if separate else "in-process dispatcher"
                        await run_paced(
                            f"{kind}, {where}",
                            url,
                            sinks,
                            folder,
                            separate=separate,
                            rate=args.rate,
                            seconds=args.paced_seconds,
                        )
    finally:
        sinks.close()
        shutil.rmtree(folder, ignore_errors=True)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="backlog size (0: skip)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per backlog run")
    parser.add_argument("--rate", type=float, default=100, help="paced status changes per s")
    parser.add_argument("--paced-seconds", type=float, default=20, help="0: skip the paced run")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL to create DBs")
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument(
        "--paced", default="inproc,separate", help="paced set-ups: inproc, separate"
    )
    args = parser.parse_args(argv)
    if args.rows < 0 or args.rows > 100_000 or args.rate <= 0 or args.paced_seconds > 300:
        parser.error("keep --rows within 0..100000, --rate above 0, --paced-seconds <= 300")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
