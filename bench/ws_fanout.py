"""Live-update (websocket fan-out) benchmark: prints figures; it is not a test.

A bounded load client opens websockets to real share links of a real `portal serve` (one
uvicorn process, the portal's websocket settings: websockets-sansio, per-message compression
off) and measures, per event, the time from the triggering HTTP request being sent to each
socket receiving the event's frame. The same client then runs the same scenarios against the
ceiling, bench/_bare_ws.py: Redis pub/sub forwarded to sockets with no portal logic.

Scenarios (portal, then ceiling):

(a) hold: N sockets (default 10,000) on many orders, all opened, then held for --hold seconds
    (longer than the server's 20 s ping interval); reports how many were refused or closed and
    the server's RSS per connection (VmRSS from /proc/<pid>/status before and after).
(b) paced events: --rate events/s (default 200) for --rate-seconds over the orders of (a), open
    loop (each request is sent on schedule whether or not earlier ones were answered); reports
    the achieved request rate and trigger-to-socket p50/p99 over every delivery. Measured after
    a warm-up of WARM_UP_EVENTS triggers, one at a time, on orders the measured events do not
    use: a server's first requests pay once for what it then keeps (SQL compiled, pool
    connections opened), about 30 ms on the 2-core machine, which is not the steady state.
(c) one hot order watched by --fanout-sockets sockets (default 5,000): --fanout-events events
    one after another; reports deliveries per second and the per-event time until the last
    socket had it.
(d) two server processes sharing the database and Redis, sockets split over both, events
    posted through either: every socket must get every event of its order exactly once, in
    order, after its snapshot.

The portal's trigger (--trigger) is by default what drives a live page in production: a signed
carrier webhook (POST /webhooks/generic, Standard Webhooks) with a new checkpoint for the order's
shipment, one timeline event each; or POST /api/v1/orders/{n}/delays (a delay opened through the
API, which also writes its email, SMS and call notices). The ceiling's is POST /publish/{topic},
which publishes a frame padded to the portal's frame size. Orders are written and shipped
through the portal's service layer before the server starts (setup only). A private
redis-server on a free port carries the pub/sub; everything listens on 127.0.0.1. The load
client is a minimal asyncio websocket client (handshake, unmasked server frames, ping -> pong)
in --clients worker processes, since one Python process cannot both hold 10,000 sockets and
read 5,000 frames per event in time. Every loop is bounded in count and in time; --time-limit
stops everything.

    .venv/bin/python bench/ws_fanout.py                 # the full run
    .venv/bin/python bench/ws_fanout.py --quick         # scaled down (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._generic_webhook import SECRET as WEBHOOK_SECRET  # noqa: E402
from bench._generic_webhook import checkpoint, signing_key  # noqa: E402

HOST = "127.0.0.1"
EV = re.compile(rb'id="ev-(\d+)"')
WEBHOOK_KEY = signing_key(WEBHOOK_SECRET)
MARK = re.compile(rb"bench-(\d+)")
SNAPSHOT = b'<div id="live"'


# =====================================================================================
# The load client: a minimal websocket client, run in worker processes.
# =====================================================================================


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (control frames only: payload < 126 bytes)."""
    key = os.urandom(4)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload[:125]))
    return bytes([0x80 | opcode, 0x80 | len(masked)]) + key + masked


class Sink:
    """What one worker process records."""

    def __init__(self) -> None:
        self.receipts: list[tuple[int, int, int, int]] = []  # (socket, ev, marker, t_ns)
        self.snapshot_seq: dict[int, int] = {}  # socket -> newest ev id in its snapshot
        self.closed: dict[int, int] = {}  # socket -> close code (1006: no close frame)


class WsClient(asyncio.Protocol):
    """One websocket: sends the upgrade, then records every text frame it receives."""

    def __init__(self, sink: Sink, index: int, host: str, port: int, path: str, origin: str):
        self.sink = sink
        self.index = index
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin}\r\n\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            if b" 101 " not in status + b" ":
                self._fail(status.decode(errors="replace"))
                return
            self.upgraded = True
            del self.buffer[: end + 4]
        self._frames()

    def _frames(self) -> None:
        buf = self.buffer
        pos, size = 0, len(buf)
        while size - pos >= 2:
            first, second = buf[pos], buf[pos + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(first & 0x0F, payload)
        if pos:
            del buf[:pos]

    def _frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        if opcode in (0, 1, 2):
            now = time.monotonic_ns()
            if not self.ready.done():  # the first frame: the snapshot
                ids = [int(x) for x in EV.findall(payload)]
                self.sink.snapshot_seq[self.index] = max(ids, default=0)
                self.ready.set_result(None)
                return
            found = EV.search(payload)
            ev = int(found[1]) if found else -1
            mark = MARK.search(payload, found.end() if found else 0)
            marker = int(mark[1]) if mark else -1
            self.sink.receipts.append((self.index, ev, marker, now))
        elif opcode == 8:  # close: answer and hang up
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if transport is not None:
                transport.write(_client_frame(8, payload[:2]))
                transport.close()
        elif opcode == 9 and transport is not None:  # ping -> pong, or the server drops us
            transport.write(_client_frame(10, payload))

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        code = self.close_code if self.close_code is not None else 1006
        self.sink.closed[self.index] = code
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the snapshot ({code})"))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_frame(8, (1000).to_bytes(2, "big")))
            self.transport.close()


async def _open_all(
    sink: Sink,
    clients: dict[int, WsClient],
    targets: list[tuple[int, int, str, str]],
    concurrency: int,
    timeout: float,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    errors: Counter[str] = Counter()
    started = time.monotonic()

    async def one(index: int, port: int, path: str, origin: str) -> None:
        async with gate:
            try:
                async with asyncio.timeout(timeout):
                    _, client = await loop.create_connection(
                        lambda: WsClient(sink, index, HOST, port, path, origin), HOST, port
                    )
                    clients[index] = client
                    await client.ready
            except Exception as exc:
                errors[f"{type(exc).__name__}: {exc}"[:120]] += 1

    await asyncio.gather(*(one(*target) for target in targets))
    return {
        "opened": len(targets) - sum(errors.values()),
        "failed": sum(errors.values()),
        "errors": dict(errors.most_common(3)),
        "seconds": time.monotonic() - started,
    }


async def _worker(conn: multiprocessing.connection.Connection) -> None:
    loop = asyncio.get_running_loop()
    sink = Sink()
    clients: dict[int, WsClient] = {}
    while True:
        command, argument = await loop.run_in_executor(None, conn.recv)
        if command == "open":
            targets, concurrency, timeout = argument
            conn.send(await _open_all(sink, clients, targets, concurrency, timeout))
        elif command == "collect":
            conn.send(
                {
                    "receipts": sink.receipts,
                    "snapshot_seq": sink.snapshot_seq,
                    "closed": dict(sink.closed),
                    "open": sum(1 for c in clients.values() if c.index not in sink.closed),
                }
            )
            sink.receipts = []
        elif command == "close":
            for client in clients.values():
                client.close()
            deadline = time.monotonic() + 10
            while len(sink.closed) < len(clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            for client in clients.values():
                if client.transport is not None:
                    client.transport.abort()
            clients.clear()
            sink = Sink()
            conn.send("closed")
        elif command == "exit":
            conn.send("bye")
            return


def worker_main(conn: multiprocessing.connection.Connection) -> None:
    _raise_fd_limit()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    try:
        import uvloop

        uvloop.run(_worker(conn))
    except ImportError:
        asyncio.run(_worker(conn))


class Clients:
    """The worker processes, driven over pipes; every call is bounded in time."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[multiprocessing.connection.Connection] = []
        self.processes: list[Any] = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=worker_main, args=(child,), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.next_index = 0

    async def _call(self, messages: list[tuple[str, Any]], timeout: float) -> list[Any]:
        def exchange(pipe: multiprocessing.connection.Connection, message: Any) -> Any:
            pipe.send(message)
            if not pipe.poll(timeout):
                raise TimeoutError(f"a client worker did not answer {message[0]!r} in time")
            return pipe.recv()

        return list(
            await asyncio.gather(
                *(
                    asyncio.to_thread(exchange, pipe, message)
                    for pipe, message in zip(self.pipes, messages, strict=True)
                )
            )
        )

    async def open(
        self, targets: Sequence[tuple[int, str, str]], concurrency: int = 100, timeout: float = 60
    ) -> tuple[dict[str, Any], list[int]]:
        """Open sockets on (port, path, origin); returns totals and the socket indexes."""
        shares: list[list[tuple[int, int, str, str]]] = [[] for _ in self.pipes]
        indexes = []
        for n, (port, path, origin) in enumerate(targets):
            index = self.next_index
            self.next_index += 1
            indexes.append(index)
            shares[n % len(self.pipes)].append((index, port, path, origin))
        per = max(1, concurrency // len(self.pipes))
        answers = await self._call(
            [("open", (share, per, timeout)) for share in shares], timeout * 3 + len(targets) / 20
        )
        errors: Counter[str] = Counter()
        for answer in answers:
            errors.update(answer["errors"])
        return {
            "opened": sum(a["opened"] for a in answers),
            "failed": sum(a["failed"] for a in answers),
            "errors": dict(errors),
            "seconds": max(a["seconds"] for a in answers),
        }, indexes

    async def collect(self) -> dict[str, Any]:
        answers = await self._call([("collect", None)] * len(self.pipes), 120)
        merged: dict[str, Any] = {"receipts": [], "snapshot_seq": {}, "closed": {}, "open": 0}
        for answer in answers:
            merged["receipts"].extend(answer["receipts"])
            merged["snapshot_seq"].update(answer["snapshot_seq"])
            merged["closed"].update(answer["closed"])
            merged["open"] += answer["open"]
        return merged

    async def close_all(self) -> None:
        await self._call([("close", None)] * len(self.pipes), 60)

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(Exception):
                pipe.send(("exit", None))
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


# =====================================================================================
# Processes: redis-server, portal serve, the bare app.
# =====================================================================================


def _raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Service:
    """A subprocess that answers GET /healthz once ready."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path, origin: str
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.origin = origin  # what a browser on this server's pages sends
        self.log = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO
        )

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-1500:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.base_url + "/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s")

    @property
    def rss(self) -> int:
        return rss_kib(self.process.pid)

    @property
    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly",
             "no", "--dir", str(workdir), "--maxclients", "1000"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class RawHttp:
    """A tiny HTTP/1.1 keep-alive client for the triggers: httpx spends milliseconds of CPU per
    request, which on a 2-core box shared with the servers caps the offered rate well below
    200/s. At most ``size`` connections per server; answers are read by Content-Length.

    A connection idle for REUSE_SECONDS or more is closed rather than reused: uvicorn closes
    keep-alive connections idle for 5 s, and a request written into one that the server is
    closing gets no answer at all."""

    REUSE_SECONDS = 3.0

    def __init__(self, size: int = 32, timeout: float = 120) -> None:
        self.size = size
        self.timeout = timeout
        # Per port, the idle connections with the time each became idle (newest last).
        self.idle: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]]] = (
            defaultdict(list)
        )
        self.gates: dict[int, asyncio.Semaphore] = {}

    async def post(
        self, port: int, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> int:
        gate = self.gates.setdefault(port, asyncio.Semaphore(self.size))
        async with gate, asyncio.timeout(self.timeout):
            reader, writer = await self._connection(port)
            head = f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: {len(body)}\r\n"
            for name, value in (headers or {}).items():
                head += f"{name}: {value}\r\n"
            try:
                writer.write(head.encode() + b"\r\n" + body)
                status_line = await reader.readline()
                length = 0
                closing = False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and "close" in value.lower():
                        closing = True
                if length:
                    await reader.readexactly(length)
                status = int(status_line.split()[1])
            except Exception:
                writer.close()
                raise
            if closing:
                writer.close()
            else:
                self.idle[port].append((reader, writer, time.monotonic()))
            return status

    async def _connection(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        idle = self.idle[port]
        while idle:
            reader, writer, since = idle.pop()
            if time.monotonic() - since < self.REUSE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(HOST, port)

    def close(self) -> None:
        for pool in self.idle.values():
            for _, writer, _ in pool:
                writer.close()
        self.idle.clear()


@dataclass
class Target:
    """A portal or ceiling deployment: how to start servers and how to trigger one event."""

    kind: str  # "portal" | "ceiling"
    workdir: Path
    redis_url: str
    frame_bytes: int = 2000
    env: dict[str, str] = field(default_factory=dict)
    api_key: str = ""
    prefix: str = ""
    trigger_kind: str = "webhook"  # the portal's: "webhook" (carrier checkpoint) or "delay"
    started: int = 0
    servers: list[Service] = field(default_factory=list)
    seq: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def start(self, shared_origin: str | None = None) -> Service:
        """One more server; ``shared_origin``: the public origin of another one (one site)."""
        port = free_port()
        origin = shared_origin or f"http://{HOST}:{port}"
        self.started += 1
        name = f"{self.kind}-{self.started}"
        if self.kind == "portal":
            env = {**self.env, "PORTAL_BASE_URL": origin}
            argv = [sys.executable, "-m", "portal", "serve", "--no-dispatcher",
                    "--host", HOST, "--port", str(port)]  # fmt: skip
        else:
            env = dict(os.environ)
            argv = [sys.executable, str(REPO / "bench" / "_bare_ws.py"), "--port", str(port),
                    "--redis", self.redis_url, "--prefix", self.prefix,
                    "--frame-bytes", str(self.frame_bytes)]  # fmt: skip
        server = Service(name, argv, env, port, self.workdir / f"{name}.log", origin)
        self.servers.append(server)
        return server

    def path(self, topic: str, token: str) -> str:
        return f"/t/{token if self.kind == 'portal' else topic}/ws"

    async def trigger(self, http: RawHttp, server: Service, topic: str, marker: int) -> int:
        """Send the request that makes one event on ``topic``; returns the HTTP status."""
        self.seq[topic] += 1
        if self.kind == "ceiling":
            return await http.post(
                server.port, f"/publish/{topic}?seq={self.seq[topic]}&marker={marker}"
            )
        if self.trigger_kind == "delay":
            body = json.dumps({"reason_code": "weather", "message": f"Storm ahead bench-{marker}"})
            return await http.post(
                server.port,
                f"/api/v1/orders/{topic}/delays",
                body.encode(),
                {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            )
        # A carrier checkpoint, newer than the last one for this shipment.
        body, headers = checkpoint(
            WEBHOOK_KEY,
            f"wh_{self.prefix}_{marker}",
            str(int(time.time())),
            tracking_number(topic),
            datetime.now(UTC),
            f"Sorted at hub bench-{marker}",
        )
        return await http.post(server.port, "/webhooks/generic", body, headers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()


def tracking_number(order_number: str) -> str:
    return "JD" + order_number


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise RuntimeError(f"portal {' '.join(args)} failed: {done.stderr[-1500:]}")
    return done.stdout


async def write_orders(env: dict[str, str], count: int) -> list[tuple[str, str]]:
    """``count`` shipped orders with their share links, through the service layer (setup)."""
    from portal.db import Database
    from portal.schemas import OrderCreate, ShipmentCreate
    from portal.services.orders import add_shipment, create_order
    from portal.services.outbox import Notifier
    from portal.services.timeline import UnitOfWork
    from portal.settings import load_settings

    settings = load_settings(env)
    notifier = Notifier.from_settings(settings)
    today = datetime.now(UTC).date()
    db = Database(settings.database_url, pool_size=1)
    made: list[tuple[str, str]] = []
    try:
        for start in range(0, count, 250):
            async with db.write() as session:
                for n in range(start, min(count, start + 250)):
                    data = OrderCreate.model_validate(
                        {
                            "order_number": f"B{n:06d}-{uuid.uuid4().hex[:4].upper()}",
                            "customer": {
                                "name": "Bench Customer",
                                "email": f"c{n}@example.com",
                                "timezone": "Europe/London",
                            },
                            "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 1}],
                            "promised_ship_by": (today + timedelta(days=1)).isoformat(),
                            "promised_deliver_by": (today + timedelta(days=4)).isoformat(),
                        }
                    )
                    uow = UnitOfWork(notifier=notifier)
                    now = datetime.now(UTC)
                    order, link = await create_order(session, uow, data, now=now, source="bench")
                    shipment = ShipmentCreate(
                        carrier="dhl", tracking_number=tracking_number(order.order_number)
                    )
                    await add_shipment(session, uow, order, shipment, now=now, source="bench")
                    made.append((order.order_number, link.token))
    finally:
        await db.dispose()
    return made


async def make_portal(
    workdir: Path, redis_url: str, database_url: str | None, trigger_kind: str
) -> Target:
    instance = workdir / "instance"
    instance.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_INSTANCE_DIR": str(instance),
            "PORTAL_SECRET_KEY": "bench-" + "k" * 40,
            "PORTAL_REDIS_URL": redis_url,
            "PORTAL_INSTANCE": f"bench-{uuid.uuid4().hex[:8]}",
            "PORTAL_WEBHOOK_SECRET_GENERIC": WEBHOOK_SECRET,
        }
    )
    if database_url:
        env["PORTAL_DATABASE_URL"] = database_url
    _cli(env, "migrate")
    key = _cli(env, "api-key", "create", "bench").strip().splitlines()[-1]
    return Target(
        "portal",
        workdir,
        redis_url,
        env=env,
        api_key=key,
        prefix=uuid.uuid4().hex[:8],
        trigger_kind=trigger_kind,
    )


# =====================================================================================
# Measurements.
# =====================================================================================


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@dataclass
class Sent:
    topic: str
    t_ns: int  # when the request was handed to the HTTP client
    status: int = 0
    done_ns: int = 0  # when its answer came back


async def report_paced(
    label: str,
    kind: str,
    figures: Figures,
    clients: Clients,
    sent: dict[int, Sent],
    watchers: Counter[str],
) -> dict[str, Any]:
    """Wait for the deliveries of ``sent`` and print the figures; returns what arrived."""
    ok = [m for m, s in sent.items() if 200 <= s.status < 300]
    expected = sum(watchers[sent[m].topic] for m in ok)
    got = await settle(clients, expected, 120)
    lat = latencies_ms(got["receipts"], sent)
    http = [(s.done_ns - s.t_ns) / 1e6 for s in sent.values() if s.done_ns]
    first = min(s.t_ns for s in sent.values())
    span = (max(s.done_ns or s.t_ns for s in sent.values()) - first) / 1e9
    figures.put(f"{label} events ok / sent", kind, f"{len(ok)} / {len(sent)}")
    figures.put(f"{label} achieved rate", kind, f"{len(ok) / span:.0f} /s")
    figures.put(
        f"{label} HTTP answer p50 / p99", kind, f"{pct(http, 50):.0f} / {pct(http, 99):.0f} ms"
    )
    figures.put(f"{label} deliveries got / expected", kind, f"{len(lat)} / {expected}")
    figures.put(
        f"{label} trigger->socket p50 / p99", kind, f"{pct(lat, 50):.0f} / {pct(lat, 99):.0f} ms"
    )
    return got


async def paced(
    target: Target,
    rate: float,
    seconds: float,
    pick: Callable[[int], tuple[Service, str]],
    first_marker: int,
) -> dict[int, Sent]:
    """Open loop: request i leaves at start + i / rate, whatever happened to earlier ones."""
    sent: dict[int, Sent] = {}
    http = RawHttp(size=32)

    async def one(marker: int, server: Service, topic: str) -> None:
        record = sent[marker] = Sent(topic, time.monotonic_ns())
        try:
            record.status = await target.trigger(http, server, topic, marker)
        except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError):
            record.status = -1
        record.done_ns = time.monotonic_ns()

    tasks = []
    start = time.monotonic()
    try:
        for i in range(int(rate * seconds)):
            pause = start + i / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            server, topic = pick(i)
            tasks.append(asyncio.create_task(one(first_marker + i, server, topic)))
        await asyncio.wait(tasks, timeout=180)
    finally:
        for task in tasks:
            task.cancel()
        http.close()
    return sent


WARM_UP_EVENTS = 20
_WARM_UP_MARKERS = 3_000_000  # (b) counts from 0, (c) from 1,000,000, (d) from 2,000,000


async def warm_up(
    target: Target, clients: Clients, server: Service, topics: list[str], watchers: Counter[str]
) -> None:
    """One trigger per topic, one after another, their deliveries drained (not measured)."""
    http = RawHttp(size=1, timeout=30)
    try:
        for index, topic in enumerate(topics):
            await target.trigger(http, server, topic, _WARM_UP_MARKERS + index)
    finally:
        http.close()
    await settle(clients, sum(watchers[topic] for topic in topics), 10)


async def settle(clients: Clients, expected: int, timeout: float) -> dict[str, Any]:
    """Collect receipts until ``expected`` arrived or nothing new came for 3 s (bounded)."""
    got: dict[str, Any] = {"receipts": [], "snapshot_seq": {}, "closed": {}, "open": 0}
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        batch = await clients.collect()
        got["snapshot_seq"].update(batch["snapshot_seq"])
        got["closed"] = batch["closed"]
        got["open"] = batch["open"]
        if batch["receipts"]:
            got["receipts"].extend(batch["receipts"])
            quiet_since = time.monotonic()
        if len(got["receipts"]) >= expected or time.monotonic() - quiet_since > 3:
            break
    return got


def latencies_ms(receipts: list[tuple[int, int, int, int]], sent: dict[int, Sent]) -> list[float]:
    return [(t - sent[m].t_ns) / 1e6 for _, _, m, t in receipts if m in sent]


@dataclass
class Figures:
    rows: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))

    def put(self, metric: str, kind: str, value: str) -> None:
        self.rows[metric][kind] = value
        print(f"  {kind:8} {metric}: {value}", flush=True)

    def table(self) -> str:
        width = max(len(m) for m in self.rows) + 2
        lines = [f"{'':{width}}{'portal':>26}{'ceiling':>26}"]
        for metric, values in self.rows.items():
            lines.append(
                f"{metric:{width}}{values.get('portal', '-'):>26}{values.get('ceiling', '-'):>26}"
            )
        return "\n".join(lines)


async def scenario_abc(
    target: Target,
    clients: Clients,
    args: argparse.Namespace,
    figures: Figures,
    orders: list[tuple[str, str]],
    hot: tuple[str, str],
) -> None:
    kind = target.kind
    server = target.start()
    await server.ready()
    await asyncio.sleep(1)
    # (a) hold N sockets on many orders.
    base_rss = server.rss
    watched = [orders[i % len(orders)] for i in range(args.sockets)]
    opened, _ = await clients.open(
        [(server.port, target.path(topic, token), server.origin) for topic, token in watched],
        concurrency=args.connect_concurrency,
    )
    await asyncio.sleep(2)
    full_rss = server.rss
    print(f"  {kind}: opened {opened['opened']} in {opened['seconds']:.1f} s; "
          f"holding {args.hold:.0f} s", flush=True)  # fmt: skip
    if opened["errors"]:
        print(f"  {kind}: open errors {opened['errors']}")
    cpu_before, hold_started = server.cpu_seconds, time.monotonic()
    await asyncio.sleep(args.hold)
    idle_cpu = (server.cpu_seconds - cpu_before) / (time.monotonic() - hold_started)
    state = await clients.collect()
    closed = Counter(state["closed"].values())
    figures.put("(a) sockets held / asked", kind, f"{state['open']} / {args.sockets}")
    figures.put("(a) refused + closed", kind, f"{opened['failed']} + {sum(closed.values())}"
                + (f" {dict(closed)}" if closed else ""))  # fmt: skip
    per = (full_rss - base_rss) / max(1, opened["opened"])
    figures.put("(a) server RSS per socket", kind, f"{per:.1f} KiB")
    figures.put(
        "(a) server RSS idle -> held", kind, f"{base_rss // 1024} -> {full_rss // 1024} MiB"
    )
    figures.put("(a) connect rate", kind, f"{opened['opened'] / opened['seconds']:.0f} /s")
    figures.put("(a) server CPU while holding, no events", kind, f"{idle_cpu:.0%} of a core")

    # (b) paced events over the held sockets' orders: the target rate, then a lower one.
    per_order = Counter(topic for topic, _ in watched)
    topics = list(per_order)
    await warm_up(target, clients, server, topics[-WARM_UP_EVENTS:], per_order)
    marker = 0
    for rate in dict.fromkeys((args.rate, args.rate_low)):
        cpu_before = server.cpu_seconds
        sent = await paced(
            target, rate, args.rate_seconds, lambda i: (server, topics[i % len(topics)]), marker
        )
        marker += len(sent)
        await report_paced(f"(b) {rate:g}/s", kind, figures, clients, sent, per_order)
        # Includes holding the sockets (see (a)); the server's whole cost of one event.
        cpu_ms = (server.cpu_seconds - cpu_before) * 1000 / max(1, len(sent))
        figures.put(f"(b) {rate:g}/s server CPU per event", kind, f"{cpu_ms:.1f} ms")
    await clients.close_all()
    await asyncio.sleep(2)

    # (c) one hot order watched by many sockets.
    topic, token = hot
    opened, _ = await clients.open(
        [(server.port, target.path(topic, token), server.origin)] * args.fanout_sockets,
        concurrency=args.connect_concurrency,
    )
    await asyncio.sleep(1)
    sent = {}
    http = RawHttp(size=1, timeout=30)
    try:
        for i in range(args.fanout_events):  # one after another: each once the last was answered
            marker = 1_000_000 + i
            record = sent[marker] = Sent(topic, time.monotonic_ns())
            record.status = await target.trigger(http, server, topic, marker)
            record.done_ns = time.monotonic_ns()
    finally:
        http.close()
    expected = opened["opened"] * sum(1 for s in sent.values() if 200 <= s.status < 300)
    got = await settle(clients, expected, 120)
    receipts = [r for r in got["receipts"] if r[2] in sent]
    last_by_event: dict[int, int] = {}
    for _, _, marker, t in receipts:
        last_by_event[marker] = max(last_by_event.get(marker, 0), t)
    if receipts:
        first_sent = min(s.t_ns for s in sent.values())
        span = (max(t for *_, t in receipts) - first_sent) / 1e9
        rate = len(receipts) / span
    else:
        rate = 0.0
    full = [(t - sent[m].t_ns) / 1e6 for m, t in last_by_event.items()]
    figures.put("(c) hot-order sockets", kind, f"{opened['opened']} / {args.fanout_sockets}")
    figures.put("(c) deliveries got / expected", kind, f"{len(receipts)} / {expected}")
    figures.put("(c) fan-out deliveries/s", kind, f"{rate:,.0f}")
    figures.put("(c) event -> last socket p50", kind, f"{pct(full, 50):.0f} ms")
    closed = Counter(got["closed"].values())
    if closed:
        figures.put("(c) closed during run", kind, str(dict(closed)))
    await clients.close_all()
    target.stop()


async def scenario_d(
    target: Target,
    clients: Clients,
    args: argparse.Namespace,
    figures: Figures,
    orders: list[tuple[str, str]],
) -> None:
    kind = target.kind
    target.seq.clear()
    first = target.start()
    await first.ready()
    second = target.start(shared_origin=first.origin)  # one site: the same public origin
    await second.ready()
    servers = [first, second]
    chosen = orders[: args.multi_orders]
    watched = [(chosen[i % len(chosen)], servers[i % 2]) for i in range(args.multi_sockets)]
    _, indexes = await clients.open(
        [(srv.port, target.path(topic, token), srv.origin) for (topic, token), srv in watched],
        concurrency=args.connect_concurrency,
    )
    await asyncio.sleep(1)
    snapshots = (await clients.collect())["snapshot_seq"]
    topic_of = {i: topic for i, ((topic, _), _) in zip(indexes, watched, strict=True)}
    live = [i for i in indexes if i in snapshots]  # sockets that got their snapshot
    figures.put("(d) 2 procs: sockets up / asked", kind, f"{len(live)} / {len(watched)}")
    # Events through either process, alternating, round-robin over the orders.
    sent = await paced(
        target,
        args.multi_rate,
        args.multi_events / args.multi_rate,
        lambda i: (servers[(i // len(chosen)) % 2], chosen[i % len(chosen)][0]),
        2_000_000,
    )
    got = await report_paced(
        "(d) 2 procs", kind, figures, clients, sent, Counter(topic_of[i] for i in live)
    )
    # Per socket: exactly the events after its snapshot, each once, in order.
    if kind == "portal":
        final = {}
        async with httpx.AsyncClient(timeout=30) as http:
            for topic, _ in chosen:
                answer = await http.get(
                    f"{first.base_url}/api/v1/orders/{topic}",
                    headers={"Authorization": f"Bearer {target.api_key}"},
                )
                final[topic] = max(e["seq"] for e in answer.json()["events"])
    else:
        final = {topic: target.seq[topic] for topic, _ in chosen}
    by_socket: dict[int, list[int]] = defaultdict(list)
    for index, ev, _, _ in got["receipts"]:  # each socket's receipts in arrival order
        by_socket[index].append(ev)
    lost = duplicated = disordered = 0
    for index in live:
        seen = by_socket.get(index, [])
        want = set(range(snapshots[index] + 1, final[topic_of[index]] + 1))
        lost += len(want - set(seen))
        duplicated += len(seen) - len(set(seen))
        disordered += sum(1 for a, b in itertools.pairwise(seen) if b <= a)
    figures.put(
        "(d) 2 procs lost / dup / disordered", kind, f"{lost} / {duplicated} / {disordered}"
    )
    await clients.close_all()
    target.stop()


async def probe_frame_size(target: Target, order: tuple[str, str]) -> int:
    """The size of the portal's increment for one event of the run's kind (the ceiling pads
    to it). The second event is measured: an order's first checkpoint also moves its status,
    so it comes as two frames, the first without the status parts every later one carries."""
    from websockets.asyncio.client import connect

    server = target.start()
    await server.ready()
    http = RawHttp(size=1, timeout=10)
    try:
        topic, token = order
        async with connect(f"ws://{HOST}:{server.port}/t/{token}/ws", origin=server.origin) as ws:  # type: ignore[arg-type]
            await asyncio.wait_for(ws.recv(), 10)  # the snapshot
            await target.trigger(http, server, topic, 999_998)
            with contextlib.suppress(TimeoutError):
                while True:  # the first event's frames, until a second of quiet
                    await asyncio.wait_for(ws.recv(), 1)
            await target.trigger(http, server, topic, 999_999)
            while True:
                frame = await asyncio.wait_for(ws.recv(), 10)
                data = frame.encode() if isinstance(frame, str) else frame
                if b"bench-999999" in data:
                    return len(data)
    finally:
        http.close()
        target.stop()


async def run(args: argparse.Namespace) -> None:
    limit = _raise_fd_limit()
    needed = max(args.sockets, args.fanout_sockets) + 500
    if limit < needed:
        print(f"warning: open-file limit {limit} < {needed}; expect refused sockets")
    workdir = Path(tempfile.mkdtemp(prefix="ws-fanout-"))
    redis = RedisServer(workdir)
    clients = Clients(args.clients)
    figures = Figures()
    targets: list[Target] = []
    try:
        portal = await make_portal(workdir / "portal", redis.url, args.database_url, args.trigger)
        targets.append(portal)
        started = time.monotonic()
        orders = await write_orders(portal.env, args.orders + 2)
        print(f"setup: {len(orders)} orders written in {time.monotonic() - started:.1f} s")
        probe, hot, orders = orders[0], orders[1], orders[2:]
        frame_bytes = await probe_frame_size(portal, probe)
        print(f"portal increment frame: {frame_bytes} bytes (the ceiling pads to it)")
        ceiling = Target("ceiling", workdir, redis.url, frame_bytes=frame_bytes,
                         prefix=f"bench-{uuid.uuid4().hex[:8]}")  # fmt: skip
        targets.append(ceiling)
        async with asyncio.timeout(args.time_limit):
            for target in targets:
                print(f"\n== {target.kind}: (a) hold, (b) paced events, (c) one hot order")
                await scenario_abc(target, clients, args, figures, orders, hot)
            for target in targets:
                print(f"\n== {target.kind}: (d) two processes through Redis")
                await scenario_d(target, clients, args, figures, orders)
    finally:
        for target in targets:
            target.stop()
        clients.stop()
        redis.stop()
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(
        f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, client and servers on the same box "
        f"({args.clients} client processes), open-file limit {limit}"
    )
    print(figures.table())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10_000, help="(a)/(b) sockets")
    parser.add_argument("--orders", type=int, default=10_000, help="(a)/(b) orders")
    parser.add_argument(
        "--trigger",
        choices=("webhook", "delay"),
        default="webhook",
        help="the portal's event: a signed carrier checkpoint, or an API delay",
    )
    parser.add_argument("--hold", type=float, default=25.0, help="(a) seconds to hold")
    parser.add_argument("--rate", type=float, default=200.0, help="(b) events per second")
    parser.add_argument("--rate-low", type=float, default=20.0, help="(b) a second, lower rate")
    parser.add_argument("--rate-seconds", type=float, default=10.0, help="(b) duration")
    parser.add_argument("--fanout-sockets", type=int, default=5_000, help="(c) sockets")
    parser.add_argument("--fanout-events", type=int, default=10, help="(c) events")
    parser.add_argument("--multi-sockets", type=int, default=1_000, help="(d) sockets")
    parser.add_argument("--multi-orders", type=int, default=100, help="(d) orders")
    parser.add_argument("--multi-events", type=int, default=200, help="(d) events")
    parser.add_argument("--multi-rate", type=float, default=20.0, help="(d) events per second")
    parser.add_argument("--clients", type=int, default=2, help="client worker processes")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--time-limit", type=float, default=1800, help="stop after this")
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    parser.add_argument("--quick", action="store_true", help="a scaled-down run")
    args = parser.parse_args(argv)
    if args.quick:
        args.sockets, args.orders, args.hold = 1_000, 200, 5.0
        args.rate_seconds, args.fanout_sockets, args.fanout_events = 5.0, 500, 5
        args.multi_sockets, args.multi_orders, args.multi_events = 200, 20, 100
    try:
        import uvloop

        uvloop.run(run(args))
    except ImportError:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
