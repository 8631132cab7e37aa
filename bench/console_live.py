"""Support-console live benchmark (issue 13): prints figures; it is not a test.

One `portal serve` (SQLite in a temporary folder, or --database-url) with a private
redis-server; --orders shipped orders written through the service layer (setup only). Open:
--sockets customer sockets on the orders' share links (spread evenly over them; held by
bench/ws_fanout.py's client worker processes) and --screens agent order screens
(WS /support/ws/orders/{n} with a console session and the site's Origin, one each on the first
--screens orders, in this process). Then --rate signed carrier webhooks per second for
--seconds, open loop, round robin over every order (a new checkpoint each, so one timeline
event), after a warm-up that is not measured. Reported: webhook-to-customer-page and
webhook-to-agent-screen p50/p99 (from the webhook request leaving to the socket reading the
frame with its entry), over every delivery of the same run, and their p99 ratio.
Target (issue 13): agent p99 no more than 1.5 times customer p99.

    .venv/bin/python bench/console_live.py            # 500 orders, 5,000 + 50 sockets, 100/s
    .venv/bin/python bench/console_live.py --quick    # scaled down (well under a minute)
    .venv/bin/python bench/console_live.py --database-url postgresql+asyncpg://...

Client and server share the machine: run it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ws_fanout import (  # noqa: E402
    MARK,
    Clients,
    Figures,
    RedisServer,
    Service,
    Target,
    latencies_ms,
    make_portal,
    paced,
    pct,
    report_paced,
    warm_up,
    write_orders,
)

AGENT_PASSWORD = "bench-agent-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
AGENTS = 5  # console sessions the screens share (as agents with several tabs)


def create_agents(env: dict[str, str], count: int) -> list[str]:
    emails = []
    for n in range(count):
        email = f"agent{n}-{uuid.uuid4().hex[:6]}@bench.example"
        subprocess.run(
            [sys.executable, "-m", "portal", "user", "create", email, "--role", "agent",
             "--password-stdin"],
            input=f"{AGENT_PASSWORD}\n{AGENT_PASSWORD}\n",
            env=env, capture_output=True, text=True, timeout=120, check=True, cwd=REPO,
        )  # fmt: skip
        emails.append(email)
    return emails


async def sign_in(server: Service, email: str) -> str:
    """A console session's Cookie header, signed in through the login form."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        form = await client.get("/support/login")
        found = CSRF.search(form.text)
        assert found is not None, "no CSRF field on the login page"
        data = {"email": email, "password": AGENT_PASSWORD, "csrf_token": found.group(1)}
        answer = await client.post("/support/login", data=data)
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:300]}")
        return f"portal_session={client.cookies['portal_session']}"


class Screens:
    """Agent order screens in this process: the time each read a frame naming a marker."""

    def __init__(self) -> None:
        self.receipts: dict[tuple[int, int], int] = {}  # (screen, marker) -> first t_ns
        self.closed: Counter[str] = Counter()
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, server: Service, numbers: list[str], cookies: list[str]) -> int:
        ready = [asyncio.get_running_loop().create_future() for _ in numbers]
        for index, number in enumerate(numbers):
            url = f"ws://127.0.0.1:{server.port}/support/ws/orders/{number}"
            cookie = cookies[index % len(cookies)]
            self.tasks.append(asyncio.create_task(self._watch(index, url, server, cookie, ready)))
        done = await asyncio.wait_for(asyncio.gather(*ready, return_exceptions=True), 60)
        return sum(1 for result in done if result is None)

    async def _watch(
        self,
        index: int,
        url: str,
        server: Service,
        cookie: str,
        ready: list[asyncio.Future[None]],
    ) -> None:
        try:
            async with connect(
                url,
                origin=server.origin,  # type: ignore[arg-type]
                additional_headers={"Cookie": cookie},
                max_size=None,
                compression=None,
                open_timeout=30,
            ) as socket:
                await socket.recv()  # the snapshot
                ready[index].set_result(None)
                async for message in socket:
                    now = time.monotonic_ns()
                    data = message.encode() if isinstance(message, str) else message
                    for marker in MARK.findall(data):
                        self.receipts.setdefault((index, int(marker)), now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.closed[f"{type(exc).__name__}: {exc}"[:100]] += 1
            if not ready[index].done():
                ready[index].set_exception(exc)

    async def settle(self, expected: int, timeout: float) -> None:
        deadline, last, quiet = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline and len(self.receipts) < expected:
            await asyncio.sleep(0.5)
            if len(self.receipts) != last:
                last, quiet = len(self.receipts), time.monotonic()
            elif time.monotonic() - quiet > 3:
                break

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def measure(
    target: Target, clients: Clients, args: argparse.Namespace, orders: list[tuple[str, str]]
) -> Figures:
    figures = Figures()
    server = target.start()
    await server.ready()
    cookies = [await sign_in(server, e) for e in create_agents(target.env, AGENTS)]
    watched = [orders[i % len(orders)] for i in range(args.sockets)]
    opened, _ = await clients.open(
        [(server.port, target.path(topic, token), server.origin) for topic, token in watched]
    )
    screens = Screens()
    screen_orders = [number for number, _ in orders[: args.screens]]
    on_screen = await screens.open(server, screen_orders, cookies)
    figures.put("customer sockets open / asked", "portal", f"{opened['opened']} / {args.sockets}")
    figures.put("agent screens open / asked", "portal", f"{on_screen} / {args.screens}")
    per_order = Counter(topic for topic, _ in watched)
    topics = [number for number, _ in orders]
    await warm_up(target, clients, server, topics[: args.warm_up], per_order)
    await screens.settle(min(args.warm_up, args.screens), 10)
    screens.receipts.clear()

    first_marker = 10_000_000
    cpu_before = server.cpu_seconds
    sent = await paced(
        target, args.rate, args.seconds, lambda i: (server, topics[i % len(topics)]), first_marker
    )
    cpu_ms = (server.cpu_seconds - cpu_before) * 1000 / max(1, len(sent))
    ok = {m for m, s in sent.items() if 200 <= s.status < 300}
    got = await report_paced(f"{args.rate:g}/s", "portal", figures, clients, sent, per_order)
    on_screens = Counter(screen_orders)
    await screens.settle(sum(on_screens[sent[m].topic] for m in ok), 60)
    customer = latencies_ms(got["receipts"], sent)
    agent = [(t - sent[m].t_ns) / 1e6 for (_, m), t in screens.receipts.items() if m in sent]
    expected = sum(on_screens[sent[m].topic] for m in ok)
    figures.put("agent deliveries got / expected", "portal", f"{len(agent)} / {expected}")
    for name, values in (("customer", customer), ("agent", agent)):
        figures.put(
            f"webhook->{name} p50 / p99",
            "portal",
            f"{pct(values, 50):.0f} / {pct(values, 99):.0f} ms",
        )
    ratio = pct(agent, 99) / pct(customer, 99) if customer and agent else float("nan")
    figures.put("agent p99 / customer p99 (target <= 1.5)", "portal", f"{ratio:.2f}")
    figures.put("server CPU per webhook", "portal", f"{cpu_ms:.1f} ms")
    if screens.closed:
        figures.put("agent screens failed", "portal", str(dict(screens.closed)))
    await screens.close()
    await clients.close_all()
    target.stop()
    return figures


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="console-live-"))
    redis = RedisServer(workdir)
    clients = Clients(args.clients)
    target: Target | None = None
    try:
        target = await make_portal(workdir / "portal", redis.url, args.database_url, "webhook")
        started = time.monotonic()
        orders = await write_orders(target.env, args.orders)
        print(f"setup: {len(orders)} orders written in {time.monotonic() - started:.1f} s")
        async with asyncio.timeout(args.time_limit):
            figures = await measure(target, clients, args, orders)
    finally:
        if target is not None:
            target.stop()
        clients.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(
        f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, client and server on the same box "
        f"({args.clients} client processes); {args.orders} orders, {args.sockets} customer "
        f"sockets, {args.screens} agent screens, {args.rate:g} webhooks/s for {args.seconds:g} s"
    )
    width = max(len(metric) for metric in figures.rows) + 2
    for metric, values in figures.rows.items():
        print(f"{metric:{width}}{values['portal']:>20}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--sockets", type=int, default=5_000, help="customer sockets")
    parser.add_argument("--screens", type=int, default=50, help="agent order screens")
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to send")
    parser.add_argument("--warm-up", type=int, default=20, help="webhooks before measuring")
    parser.add_argument("--clients", type=int, default=2, help="client worker processes")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--time-limit", type=float, default=900, help="stop after this")
    parser.add_argument("--quick", action="store_true", help="a scaled-down run")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.sockets, args.screens = 20, 200, 5
        args.rate, args.seconds, args.warm_up = 20.0, 5.0, 5
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
