"""Reliability under faults (issue 12, items 4, 6 and 8): prints figures; it is not a test.

One `portal serve` (SQLite, or --database-url), its own redis-server, orders with share links
written through the service layer, client sockets in worker processes (bench/ws_fanout.py's).

1. Slow bodies: paced carrier webhooks (20/s for 10 s) answered with no slow sender, then again
   while 50 senders each trickle a webhook body at one byte a second. Printed: the webhooks'
   answer p50 / p99 both times, and what each slow sender got and when (408 after
   PORTAL_BODY_TIMEOUT, default 10 s).
2. A slow broker: every byte the portal sends to Redis passes a proxy that holds it 2 s. Paced
   webhooks (20/s for 10 s) on orders each watched by one socket, with Redis direct and then
   through the proxy. Printed: answer p50 / p99 (publishing is not part of the request, so they
   should match), deliveries got of expected and trigger-to-socket latency (about 2 s slower).
3. A reconnect storm: a freshly started server, then --storm-sockets sockets on --storm-orders
   orders opened at once (--storm-concurrency in flight, as pages do after a deploy). A socket
   refused (1013: catch-up queue full) or failed is opened again, in rounds after waits of 1, 2,
   4 ... s (static/live.js backs off with full jitter in the same windows). Printed: the time until
   every socket holds its order's snapshot, refusals per round, server CPU, and whether every
   socket of one order got the same snapshot.

    .venv/bin/python bench/reliability.py
    .venv/bin/python bench/reliability.py --quick
    .venv/bin/python bench/reliability.py --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ws_fanout import (  # noqa: E402
    HOST,
    Clients,
    RedisServer,
    Sent,
    Service,
    Target,
    _raise_fd_limit,
    free_port,
    latencies_ms,
    make_portal,
    paced,
    pct,
    write_orders,
)

Orders = list[tuple[str, str]]  # (order number, share-link token)


class Table:
    """Rows of (figure, condition) -> value, printed as they come and as one table at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def put(self, figure: str, condition: str, value: str) -> None:
        self.rows.append((figure, condition, value))
        print(f"  {figure} [{condition}]: {value}", flush=True)

    def render(self) -> str:
        width = max(len(f) + len(c) + 3 for f, c, _ in self.rows)
        return "\n".join(f"{f'{f} [{c}]':{width}} {v}" for f, c, v in self.rows)


def answer_ms(sent: dict[int, Sent]) -> str:
    times = [(s.done_ns - s.t_ns) / 1e6 for s in sent.values() if s.done_ns]
    ok = sum(1 for s in sent.values() if 200 <= s.status < 300)
    return f"{pct(times, 50):.1f} / {pct(times, 99):.1f} ms ({ok} of {len(sent)} accepted)"


@contextlib.contextmanager
def started(target: Target) -> Iterator[Service]:
    server = target.start()
    try:
        yield server
    finally:
        target.stop()


# ---------------------------------------------------------------------------------------------
# 1. Slow bodies
# ---------------------------------------------------------------------------------------------


async def trickle(port: int, length: int, seconds: float) -> tuple[str, float]:
    """POST a webhook whose body comes one byte a second; (what came back, seconds after start)."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"POST /webhooks/generic HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    writer.write(head.encode())
    answer = asyncio.ensure_future(reader.readline())
    try:
        for _ in range(length):
            if answer.done() or time.monotonic() - start > seconds:
                break
            writer.write(b" ")
            await asyncio.wait([answer], timeout=1)
        line = await asyncio.wait_for(
            answer, timeout=max(0.1, seconds - (time.monotonic() - start))
        )
        status = line.split()[1].decode() if line else "closed"
    except (TimeoutError, OSError, IndexError):
        status = "no answer"
    finally:
        answer.cancel()
        writer.close()
    return status, time.monotonic() - start


async def slow_bodies(target: Target, orders: Orders, args: argparse.Namespace, t: Table) -> None:
    topics = [number for number, _ in orders[: args.paced_orders]]
    with started(target) as server:
        await server.ready()

        def pick(i: int) -> tuple[Service, str]:
            return server, topics[i % len(topics)]

        calm = await paced(target, args.rate, args.seconds, pick, 0)
        t.put("webhook answer p50 / p99", "no slow sender", answer_ms(calm))
        senders = [
            asyncio.create_task(trickle(server.port, 4096, args.body_wait))
            for _ in range(args.slow_senders)
        ]
        await asyncio.sleep(1)
        busy = await paced(target, args.rate, args.seconds, pick, 10_000)
        t.put(
            "webhook answer p50 / p99", f"{args.slow_senders} senders at 1 byte/s", answer_ms(busy)
        )
        results = await asyncio.gather(*senders)
        statuses = Counter(status for status, _ in results)
        cut = [seconds for status, seconds in results if status == "408"]
        t.put(
            "slow senders' answers",
            "1 byte/s",
            ", ".join(f"{n} x {s}" for s, n in statuses.items()),
        )
        if cut:
            t.put("slow sender cut off after", "1 byte/s", f"{min(cut):.2f} to {max(cut):.2f} s")


# ---------------------------------------------------------------------------------------------
# 2. A slow broker
# ---------------------------------------------------------------------------------------------


class DelayProxy:
    """TCP proxy to Redis that holds every client-to-server byte ``delay`` seconds (in order);
    answers and pushed messages come back at once."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, HOST, self.port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read_client() -> None:
            while data := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.delay, data))
            queue.put_nowait((time.monotonic() + self.delay, b""))

        async def forward_late() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    up_writer.close()
                    return
                up_writer.write(data)

        async def answer() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
            writer.close()

        for job in (read_client(), forward_late(), answer()):
            task = asyncio.create_task(job)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()


async def publisher_counts(server: Service) -> str:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(server.base_url + "/metrics")).text
    values = dict(
        line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    names = ("portal_publish_failures_total", "portal_publish_dropped_total")
    return " / ".join(f"{float(values.get(name, 'nan')):.0f}" for name in names)


async def arrivals(
    clients: Clients, expected: int, seconds: float
) -> list[tuple[int, int, int, int]]:
    """The sockets' receipts until ``expected`` came or ``seconds`` passed."""
    receipts: list[tuple[int, int, int, int]] = []
    deadline = time.monotonic() + seconds
    while len(receipts) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        receipts += (await clients.collect())["receipts"]
    return receipts


async def watched_webhooks(
    target: Target,
    clients: Clients,
    orders: Orders,
    args: argparse.Namespace,
    t: Table,
    label: str,
    first_marker: int,
) -> None:
    """Paced webhooks on orders watched by one socket each. ``first_marker``: the webhooks' ids
    count from it (a repeated id is a carrier's retry: accepted, but no new event)."""
    watched = orders[: args.paced_orders]
    with started(target) as server:
        await server.ready()
        opened, _ = await clients.open(
            [(server.port, target.path(n, token), server.origin) for n, token in watched]
        )
        await asyncio.sleep(3)  # subscriptions settle (through the proxy too)
        await clients.collect()  # nothing before the paced run counts
        topics = [number for number, _ in watched]
        sent = await paced(
            target,
            args.rate,
            args.seconds,
            lambda i: (server, topics[i % len(topics)]),
            first_marker,
        )
        ok = [m for m, s in sent.items() if 200 <= s.status < 300]
        latency = latencies_ms(await arrivals(clients, len(ok), args.broker_delay + 30), sent)
        t.put("webhook answer p50 / p99", label, answer_ms(sent))
        t.put("deliveries got / expected", label, f"{len(latency)} / {len(ok)}")
        t.put(
            "trigger-to-socket p50 / p99",
            label,
            f"{pct(latency, 50):.0f} / {pct(latency, 99):.0f} ms",
        )
        if opened["failed"]:
            t.put("sockets that did not open", label, str(opened["failed"]))
        t.put("publisher failures / dropped", label, await publisher_counts(server))
        await clients.close_all()


async def slow_broker(
    target: Target, redis: RedisServer, clients: Clients, orders: Orders, args: argparse.Namespace,
    t: Table,
) -> None:  # fmt: skip
    await watched_webhooks(target, clients, orders, args, t, "Redis direct", 20_000)
    proxy = DelayProxy(redis.port, args.broker_delay)
    await proxy.start()
    try:
        slow = dataclasses.replace(
            target, env={**target.env, "PORTAL_REDIS_URL": proxy.url}, servers=[]
        )
        await watched_webhooks(
            slow, clients, orders, args, t, f"Redis +{args.broker_delay:g} s", 30_000
        )
    finally:
        await proxy.stop()


# ---------------------------------------------------------------------------------------------
# 3. A reconnect storm
# ---------------------------------------------------------------------------------------------


async def storm(
    target: Target, clients: Clients, orders: Orders, args: argparse.Namespace, t: Table
) -> None:
    wanted = [orders[i % args.storm_orders] for i in range(args.storm_sockets)]
    label = f"{args.storm_sockets} sockets, {args.storm_orders} orders"
    with started(target) as server:
        await server.ready()
        cpu_before, start = server.cpu_seconds, time.monotonic()
        pending = wanted
        held: dict[int, tuple[str, str]] = {}
        rounds: list[str] = []
        wait = 1.0
        while pending and time.monotonic() - start < args.storm_limit:
            _, indexes = await clients.open(
                [(server.port, target.path(n, token), server.origin) for n, token in pending],
                concurrency=args.storm_concurrency,
            )
            state = await clients.collect()
            done = {i for i in indexes if i in state["snapshot_seq"]}
            refused = Counter(state["closed"].get(i, 0) for i in indexes if i not in done)
            rounds.append(
                f"{len(done)} in, refused {dict(refused)}" if refused else f"{len(done)} in"
            )
            held.update((i, p) for i, p in zip(indexes, pending, strict=True) if i in done)
            pending = [p for i, p in zip(indexes, pending, strict=True) if i not in done]
            if pending:
                await asyncio.sleep(wait)
                wait = min(wait * 2, 32)
        took = time.monotonic() - start
        cpu = server.cpu_seconds - cpu_before
        snapshots = (await clients.collect())["snapshot_seq"]
        per_order: dict[str, set[int]] = {}
        for index, (number, _) in held.items():
            per_order.setdefault(number, set()).add(snapshots[index])
        differing = sum(1 for seen in per_order.values() if len(seen) > 1)
        t.put("all sockets holding a snapshot after", label,
              f"{took:.1f} s ({len(held)} of {len(wanted)}; {len(held) / took:.0f}/s)")  # fmt: skip
        t.put("rounds", label, "; ".join(rounds))
        t.put("server CPU per socket", label, f"{cpu / max(1, len(held)) * 1000:.2f} ms")
        t.put("orders whose sockets got different snapshots", label, str(differing))
        await clients.close_all()


# ---------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    limit = _raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="reliability-"))
    redis = RedisServer(workdir)
    clients = Clients(args.clients)
    table = Table()
    try:
        portal = await make_portal(workdir / "portal", redis.url, args.database_url, "webhook")
        count = max(args.storm_orders, args.paced_orders)
        began = time.monotonic()
        orders = await write_orders(portal.env, count)
        print(f"setup: {len(orders)} orders in {time.monotonic() - began:.1f} s", flush=True)
        if "1" in args.only:
            print("\n== 1. slow bodies")
            await slow_bodies(portal, orders, args, table)
        if "2" in args.only:
            print("\n== 2. a slow broker")
            await slow_broker(portal, redis, clients, orders, args, table)
        if "3" in args.only:
            print("\n== 3. a reconnect storm")
            await storm(portal, clients, orders, args, table)
    finally:
        clients.stop()
        redis.stop()
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(
        f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, open-file limit {limit}, database "
        f"{'SQLite' if not args.database_url else args.database_url.split(':', 1)[0]}"
    )
    print(table.render())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="paced webhooks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced run length")
    parser.add_argument("--paced-orders", type=int, default=100)
    parser.add_argument("--slow-senders", type=int, default=50)
    parser.add_argument("--body-wait", type=float, default=20.0, help="a slow sender gives up")
    parser.add_argument("--broker-delay", type=float, default=2.0, help="seconds")
    parser.add_argument("--storm-sockets", type=int, default=5_000)
    parser.add_argument("--storm-orders", type=int, default=2_500)
    parser.add_argument("--storm-concurrency", type=int, default=1_000)
    parser.add_argument("--storm-limit", type=float, default=120.0, help="give up after")
    parser.add_argument("--clients", type=int, default=2, help="client worker processes")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--only", default="123", help="which parts, e.g. 13")
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs")
    parser.add_argument("--quick", action="store_true", help="a scaled-down run")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.slow_senders, args.storm_sockets, args.storm_orders = 4.0, 10, 500, 250
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
