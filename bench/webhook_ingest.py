"""Carrier webhook ingestion benchmark: prints figures; it is not a test.

For each database (a SQLite file, then a fresh PostgreSQL database):

1. `portal serve` runs in a subprocess on a free 127.0.0.1 port, with PORTAL_REDIS_URL set so
   that every recorded event is published to Redis after commit. Orders and shipments are
   registered through the real API (not timed).
2. Closed loop: a bounded client (N concurrent keep-alive connections, httpx.AsyncClient) posts
   signed generic (Standard Webhooks) carrier webhooks, each one new checkpoint for one of the
   registered shipments, as fast as the answers come back. Printed: accepted events per second
   (events the portal recorded, from its answers) and the p50/p99 request latency.
3. Paced: the same webhooks at a fixed rate, each sent on schedule whether or not earlier ones
   were answered (open loop); a request not answered within 10 s counts as failed. Printed:
   p50/p99 (target p99 < 50 ms at 200 events/s). 200/s comes first; the lower default rates
   (50/s, 20/s) show the latency below saturation on machines where 200/s is more than even
   the ceiling sustains (a shared 2-core box with client and servers on it).
4. The same two runs against the ceiling, bench/_bare_webhook.py under the same uvicorn on the
   same database: verify the HMAC, insert one row, publish to Redis, answer.

Target: full ingestion at least half of the ceiling's events per second on each database.
Everything listens on 127.0.0.1; every loop is bounded in count and in time; the temporary
folder, the PostgreSQL database and the processes are removed at the end. Redis is only
published to (channels under a fresh prefix), never written or flushed.

    .venv/bin/python bench/webhook_ingest.py
    .venv/bin/python bench/webhook_ingest.py --connections 32 --requests 5000
    .venv/bin/python bench/webhook_ingest.py --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._generic_webhook import SECRET, checkpoint, signing_key  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_POSTGRES = os.environ.get(
    "PORTAL_BENCH_POSTGRES_URL",
    os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
DEFAULT_REDIS = os.environ.get("PORTAL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GRACE = 10.0  # seconds a paced phase waits for answers after its last request was due
PACED_CONNECTIONS = 256  # at most this many requests in flight in a paced phase


# --- the workload -------------------------------------------------------------------------


class Workload:
    """Signed generic webhooks, each a new, newer checkpoint for one of the shipments."""

    def __init__(self, tracking_numbers: Sequence[str], run: str) -> None:
        self.tracking_numbers = list(tracking_numbers)
        self.run = run
        self.counter = 0
        # Checkpoints start in the past and move forward one second each, so every one is
        # newer than the last for its shipment: each is recorded and applied.
        self.base = datetime.now(UTC) - timedelta(hours=12)
        self.key = signing_key(SECRET)

    def make(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        """``count`` ready requests (body, headers), signed now."""
        stamp = str(int(time.time()))
        made = []
        for _ in range(count):
            self.counter += 1
            number = self.tracking_numbers[self.counter % len(self.tracking_numbers)]
            occurred = self.base + timedelta(seconds=self.counter)
            made.append(
                checkpoint(
                    self.key,
                    f"msg_{self.run}_{self.counter}",
                    stamp,
                    number,
                    occurred,
                    f"Sorted at hub {self.counter % 97}",
                )
            )
        return made


@dataclass
class Phase:
    name: str
    sent: int = 0
    ok: int = 0
    events: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    open: bool = True

    def fail(self, why: str) -> None:
        self.failures[why] = self.failures.get(why, 0) + 1

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def post(
    client: httpx.AsyncClient,
    request: tuple[bytes, dict[str, str]],
    phase: Phase,
    scheduled: float | None = None,
    gate: asyncio.Semaphore | None = None,
) -> None:
    """Send one webhook; its latency counts from ``scheduled`` when given (open loop)."""
    body, headers = request
    started = time.perf_counter() if scheduled is None else scheduled
    phase.sent += 1
    try:
        if gate is None:
            answer = await client.post("/webhooks/generic", content=body, headers=headers)
        else:
            async with gate:
                answer = await client.post("/webhooks/generic", content=body, headers=headers)
    except httpx.HTTPError as exc:
        if phase.open:
            phase.fail(type(exc).__name__)
        return
    if not phase.open:
        return  # answered after the phase was over: not part of its figures
    phase.latencies.append(time.perf_counter() - started)
    if answer.status_code // 100 == 2:
        phase.ok += 1
        phase.events += int(answer.json().get("events", 0))
    else:
        phase.fail(str(answer.status_code))


async def closed_loop(
    client: httpx.AsyncClient, workload: Workload, requests: int, connections: int, cap: float
) -> Phase:
    """``connections`` workers, each sending its next request when the last was answered."""
    queue = workload.make(requests)
    phase = Phase("closed loop")
    deadline = time.monotonic() + cap
    position = 0

    async def worker() -> None:
        nonlocal position
        while position < len(queue) and time.monotonic() < deadline:
            request = queue[position]
            position += 1
            await post(client, request, phase)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    phase.seconds = time.perf_counter() - started
    phase.open = False
    return phase


async def paced(
    client: httpx.AsyncClient, workload: Workload, rate: float, seconds: float, connections: int
) -> Phase:
    """Open loop: request i is due at start + i / rate and leaves then, answered or not.

    Latency counts from the due time, so a client that falls behind its schedule (a saturated
    machine) shows in the figures instead of hiding them. Bounded: the phase ends ``GRACE``
    seconds after the last request was due; what is unanswered or unsent by then is counted.
    Requests beyond ``connections`` in flight wait here, not in httpx's pool, whose queue costs
    time quadratic in its length and would starve this client on an overloaded server.
    """
    gate = asyncio.Semaphore(connections)
    total = int(rate * seconds)
    queue = workload.make(total)
    phase = Phase(f"paced {rate:g}/s")
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    deadline = started + seconds + GRACE
    for index, request in enumerate(queue):
        due = started + index / rate
        now = time.perf_counter()
        if now > deadline:
            phase.failures["unsent"] = total - index
            break
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(post(client, request, phase, due, gate)))
    _, pending = await asyncio.wait(tasks, timeout=max(0.1, deadline - time.perf_counter()))
    phase.seconds = time.perf_counter() - started
    phase.open = False
    if pending:
        phase.failures["unanswered"] = len(pending)
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=30)
    return phase


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds:g} s")


@contextlib.asynccontextmanager
async def server(
    command: list[str], env: dict[str, str], log: Path, port: int
) -> AsyncIterator[str]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        base = f"http://{HOST}:{port}"
        await wait_until_up(base + "/healthz", process)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def portal_env(url: str, folder: Path, redis_url: str, instance: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=url,
        PORTAL_REDIS_URL=redis_url,
        PORTAL_INSTANCE=instance,
        PORTAL_INSTANCE_DIR=str(folder / "instance"),
        PORTAL_SECRET_KEY="bench-" + "k" * 40,
        PORTAL_BASE_URL=f"http://{HOST}:{port}",
        PORTAL_WEBHOOK_SECRET_GENERIC=SECRET,
    )
    return env


@contextlib.asynccontextmanager
async def database(kind: str, folder: Path, postgres_url: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = "portal_whbench_" + uuid.uuid4().hex[:10]
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def postgres_reachable(url: str) -> bool:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


def api_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "portal", "api-key", "create", "bench"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def register_shipments(base: str, key: str, count: int) -> list[str]:
    """Orders placed and shipped through the API; returns their tracking numbers."""
    today = datetime.now(UTC).date()
    numbers: list[str] = []
    semaphore = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, index: int) -> None:
        order = f"B{uuid.uuid4().hex[:10].upper()}"
        number = f"JD{uuid.uuid4().hex[:14].upper()}"
        async with semaphore:
            placed = await client.post(
                "/api/v1/orders",
                json={
                    "order_number": order,
                    "customer": {"name": f"Customer {index}", "email": f"c{index}@example.com"},
                    "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 1}],
                    "promised_ship_by": (today + timedelta(days=1)).isoformat(),
                    "promised_deliver_by": (today + timedelta(days=4)).isoformat(),
                },
            )
            placed.raise_for_status()
            shipped = await client.post(
                f"/api/v1/orders/{order}/shipments",
                json={"carrier": "dhl", "tracking_number": number},
            )
            shipped.raise_for_status()
        numbers.append(number)

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        await asyncio.gather(*(one(client, i) for i in range(count)))
    return numbers


# --- one target ---------------------------------------------------------------------------


@dataclass
class Figures:
    target: str
    closed: Phase
    paced: list[Phase]


async def measure(target: str, base: str, workload: Workload, args: argparse.Namespace) -> Figures:
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await closed_loop(client, workload, args.warmup, args.connections, args.max_seconds)
        closed = await closed_loop(
            client, workload, args.requests, args.connections, args.max_seconds
        )
    runs = []
    for rate in args.rates:
        await asyncio.sleep(2)
        # Carriers open the connections they need: the open loop is not held back by a small
        # pool, and a request not answered in 10 s counts as failed (a carrier retries).
        limits = httpx.Limits(max_connections=PACED_CONNECTIONS, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
            await closed_loop(client, workload, 50, 4, args.max_seconds)
            runs.append(await paced(client, workload, rate, args.paced_seconds, PACED_CONNECTIONS))
    print(f"  {target} measured ({load()})", flush=True)
    return Figures(target, closed, runs)


async def run_database(
    kind: str, folder: Path, args: argparse.Namespace
) -> tuple[Figures, Figures]:
    run = uuid.uuid4().hex[:8]
    async with database(kind, folder, args.postgres_url) as url:
        port = free_port()
        env = portal_env(url, folder, args.redis_url, f"bench-{run}", port)
        serve = [
            sys.executable, "-m", "portal", "serve", "--host", HOST, "--port", str(port),
            "--migrate", "--no-dispatcher",
        ]  # fmt: skip
        async with server(serve, env, folder / f"portal-{kind}.log", port) as base:
            key = api_key(env)
            started = time.perf_counter()
            numbers = await register_shipments(base, key, args.shipments)
            print(
                f"  {kind}: {len(numbers)} shipments registered through the API in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            workload = Workload(numbers, run)
            full = await measure("portal", base, workload, args)

        port = free_port()
        bare_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
            "BENCH_DATABASE_URL": url,
            "BENCH_REDIS_URL": args.redis_url,
            "BENCH_SECRET": SECRET,
            "BENCH_CHANNEL": f"bench-{run}:bare",
        }
        bare_cmd = [
            sys.executable, "-m", "uvicorn", "--factory", "bench._bare_webhook:build",
            "--host", HOST, "--port", str(port), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        async with server(bare_cmd, bare_env, folder / f"bare-{kind}.log", port) as base:
            ceiling = await measure("ceiling", base, Workload(numbers, run + "b"), args)
    return full, ceiling


# --- output -------------------------------------------------------------------------------


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load {load[0]:.2f}; "
        "client and servers on the same machine"
    )


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""


def row(figures: Figures) -> list[str]:
    lines = []
    for phase in (figures.closed, *figures.paced):
        failures = ", ".join(f"{k}: {v}" for k, v in sorted(phase.failures.items())) or "none"
        lines.append(
            f"    {figures.target:<8} {phase.name:<12} {phase.sent:>6} req  "
            f"{phase.events_per_second:>8.1f} events/s  p50 {phase.p(0.5):>7.1f} ms  "
            f"p99 {phase.p(0.99):>7.1f} ms  failures: {failures}"
        )
    return lines


def report(kind: str, full: Figures, ceiling: Figures, args: argparse.Namespace) -> None:
    print(f"\n  {kind}")
    for line in row(full) + row(ceiling):
        print(line)
    ratio = full.closed.events_per_second / ceiling.closed.events_per_second
    print(
        f"    full / ceiling: {ratio:.2f} (target >= 0.50: {'met' if ratio >= 0.5 else 'MISSED'})"
    )
    for phase in full.paced:
        clean = not phase.failures
        verdict = "met" if clean and phase.p(0.99) < 50 else "MISSED"
        print(
            f"    portal {phase.name}: p99 {phase.p(0.99):.1f} ms"
            f"{'' if clean else ' (with failures)'} (target < 50 ms: {verdict})",
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    print("webhook ingestion benchmark")
    print(f"  machine: {machine()}")
    print(
        f"  workload: {args.shipments} shipments, {args.connections} connections, "
        f"{args.requests} requests closed loop (after {args.warmup} warm-up), "
        f"paced {', '.join(f'{r:g}/s' for r in args.rates)} for {args.paced_seconds:g} s each; "
        "one checkpoint per webhook"
    )
    kinds = [] if args.no_sqlite else ["sqlite"]
    if not args.no_postgres:
        if await postgres_reachable(args.postgres_url):
            kinds.append("postgres")
        else:
            print(f"  PostgreSQL at {args.postgres_url} is not reachable: skipped")
    folder = Path(tempfile.mkdtemp(prefix="portal-webhook-bench-"))
    try:
        for kind in kinds:
            full, ceiling = await run_database(kind, folder, args)
            report(kind, full, ceiling, args)
    finally:
        if args.keep_logs:
            print(f"  logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--shipments", type=int, default=200, help="shipments to aim at")
    parser.add_argument("--requests", type=int, default=2000, help="closed-loop requests")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests")
    parser.add_argument("--max-seconds", type=float, default=90, help="cap per closed loop")
    parser.add_argument(
        "--rates",
        type=lambda text: [float(part) for part in text.split(",") if part],
        default=[200.0, 50.0, 20.0],
        help="paced events per second, comma-separated (default 200,50,20)",
    )
    parser.add_argument("--paced-seconds", type=float, default=10)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs")
    args = parser.parse_args(argv)
    for host in (httpx.URL(args.redis_url).host, httpx.URL(args.postgres_url).host):
        if host not in (HOST, "localhost", ""):
            parser.error(f"this benchmark only talks to {HOST}, not {host}")
    return args


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # asyncio.run cancels main(): servers stop, the database is dropped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    asyncio.run(main(parse()))
