"""A portal wired to a real SMTP server and a real HTTP SMS endpoint, both on 127.0.0.1.

The app runs without its in-process dispatcher; each test drives a `Dispatcher` itself, so what
is sent, and when, follows the test's frozen clock.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.app import create_app
from portal.models import Notification, Order
from portal.models_screen import CallTask
from portal.notify.channels import Channels
from portal.services.dispatch import Dispatcher, build_channels
from portal.settings import Settings
from tests.integration.conftest import FrozenClock, Portal, add_api_key, migrated, order_body

SID, TOKEN = "AC0f1e2d3c4b5a", "s3cret/t0ken+x"
SMS_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
SMS_FROM = "+15005550006"
EMAIL_FROM = "Example Shop <no-reply@shop.example>"
REVIEW_URL = "https://reviews.example/example-shop"
PHONE = "+14155552671"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the SMTP server ------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        assert content is not None
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def with_subject(self, words: str) -> list[EmailMessage]:
        return [m for m in self.messages if words in str(m["Subject"])]


@asynccontextmanager
async def smtp_server(handler: Any) -> AsyncIterator[int]:
    """An SMTP server on a free port of 127.0.0.1, in the running event loop."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", loop=loop), "127.0.0.1", 0
    )
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# --- the SMS provider -----------------------------------------------------------------------


@dataclass
class SmsProvider:
    """A Twilio-like messages endpoint that records each form and its basic auth.

    Like Twilio, it honours `Idempotency-Key`: a request repeating a key it accepted gets the
    first answer again and is not recorded as another message. `stall_first` (seconds): the
    first request is accepted, then answered only after that long (a timeout after acceptance).
    """

    received: list[dict[str, str]] = field(default_factory=list)
    auth: list[tuple[str, str] | None] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    accepted: dict[str, Response] = field(default_factory=dict)
    stall_first: float = 0.0

    async def messages(self, request: Request) -> Response:
        form = await request.form()
        key = request.headers.get("idempotency-key")
        self.keys.append(key)
        if key is not None and key in self.accepted:
            return self.accepted[key]
        self.received.append({k: str(v) for k, v in form.items()})
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            self.auth.append((user, password))
        else:
            self.auth.append(None)
        answer = JSONResponse({"sid": f"SM{len(self.received):032d}", "status": "queued"}, 201)
        if key is not None:
            self.accepted[key] = answer
        if self.stall_first:
            stall, self.stall_first = self.stall_first, 0.0
            await asyncio.sleep(stall)
        return answer

    def bodies(self) -> list[str]:
        return [form["Body"] for form in self.received]


@asynccontextmanager
async def sms_server(state: SmsProvider) -> AsyncIterator[str]:
    """Serve `state` with uvicorn on a free port; yields PORTAL_SMS_URL with credentials."""
    app = Starlette(routes=[Route(SMS_PATH, state.messages, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        assert server.started
        yield f"http://{SID}:{quote(TOKEN, safe='')}@127.0.0.1:{port}{SMS_PATH}"
    finally:
        server.should_exit = True
        await task
        sock.close()


# --- time zones relative to the frozen clock --------------------------------------------------


def zone_at_local_hour(now: datetime, hour: int) -> str:
    """A fixed-offset IANA zone in which `now` reads `hour` o'clock (minutes as in UTC)."""
    offset = (hour - now.astimezone(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    if offset == 0:
        return "Etc/UTC"
    return f"Etc/GMT{-offset:+d}"  # the Etc names count the other way: Etc/GMT-3 is UTC+3


def long_date(value: date) -> str:
    """How the English templates write a date in an email: "Thursday, 4 March 2027"."""
    return f"{value:%A}, {value.day} {value:%B} {value.year}"


# --- the harness ------------------------------------------------------------------------------


class Harness:
    """The portal app, its API client, the servers it sends to, and dispatchers on demand."""

    def __init__(
        self,
        portal: Portal,
        settings: Settings,
        smtp: SmtpSink,
        sms: SmsProvider,
        channels: Channels,
    ) -> None:
        self.portal = portal
        self.settings = settings
        self.smtp = smtp
        self.sms = sms
        self.channels = channels
        self.clock: FrozenClock = portal.clock
        self._dispatchers = 0
        self.zones: dict[str, str] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        return self.portal.client

    def dispatcher(self, *, channels: Channels | None = None, **options: Any) -> Dispatcher:
        self._dispatchers += 1
        options.setdefault("name", f"test-dispatcher-{self._dispatchers}")
        return Dispatcher(
            self.portal.runtime.db,
            self.settings,
            channels or self.channels,
            clock=self.clock,
            **options,
        )

    async def drain(self, dispatcher: Dispatcher | None = None) -> int:
        """Run rounds until nothing is due; returns how many rows were claimed."""
        dispatcher = dispatcher or self.dispatcher()
        total = 0
        for _ in range(100):
            claimed = await dispatcher.run_once()
            total += claimed
            if not claimed:
                return total
        raise AssertionError("the dispatcher kept finding due rows")

    async def create_order(self, *, hour: int = 12, phone: str | None = PHONE, **extra: Any) -> Any:
        """An order whose customer lives where the frozen clock reads `hour` o'clock."""
        body = order_body(**extra)
        zone = zone_at_local_hour(self.clock(), hour)
        body["customer"] = {**body["customer"], "timezone": zone, "phone": phone}
        answer = await self.portal.post("/api/v1/orders", body)
        assert answer.status_code == 201, answer.text
        self.zones[body["order_number"]] = zone
        return answer.json()

    async def post(self, path: str, body: Any) -> Any:
        answer = await self.portal.post(path, body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    async def rows(self, order_number: str | None = None) -> list[Notification]:
        async with self.portal.runtime.db.read() as session:
            stmt = select(Notification).order_by(col(Notification.id))
            if order_number is not None:
                stmt = stmt.join(Order, col(Order.id) == col(Notification.order_id)).where(
                    col(Order.order_number) == order_number
                )
            return list((await session.execute(stmt)).scalars())

    async def row(
        self, order_number: str, kind: str, channel: str, milestone: str | None = None
    ) -> Notification:
        found = [
            r
            for r in await self.rows(order_number)
            if r.kind == kind and r.channel == channel and milestone in (None, r.milestone)
        ]
        assert len(found) == 1, [(r.kind, r.channel, r.milestone) for r in found]
        return found[0]

    async def calls(self) -> list[dict[str, Any]]:
        """The call tasks phone notices became, as the dispatcher named them."""
        async with self.portal.runtime.db.read() as session:
            tasks = (await session.execute(select(CallTask).order_by(col(CallTask.id)))).scalars()
            return [
                {"id": f"call-task-{t.id}", "to": t.phone, "locale": t.locale, "script": t.script}
                for t in tasks
            ]


def notify_settings(settings: Settings, smtp_url: str, sms_url: str) -> Settings:
    return replace(
        settings,
        smtp_url=smtp_url,
        sms_url=sms_url,
        email_from=EMAIL_FROM,
        sms_from=SMS_FROM,
        shop_name="Example Shop",
        support_email="help@shop.example",
        review_url=REVIEW_URL,
    )


@pytest.fixture
async def harness(settings: Settings, clock: FrozenClock) -> AsyncIterator[Harness]:
    smtp, sms = SmtpSink(), SmsProvider()
    async with smtp_server(smtp) as smtp_port, sms_server(sms) as sms_url:
        wired = notify_settings(settings, f"smtp://127.0.0.1:{smtp_port}", sms_url)
        await migrated(wired.database_url)
        key = await add_api_key(wired.database_url)
        app = create_app(wired, clock=clock, dispatcher=False)
        async with (
            app.router.lifespan_context(app),
            build_channels(wired) as channels,
        ):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=wired.base_url) as client:
                yield Harness(Portal(app, client, key, clock), wired, smtp, sms, channels)


def today() -> date:
    return datetime.now(UTC).date()


def days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def dispatch_env(harness: Harness) -> dict[str, str]:
    """The environment of a separate `portal dispatch` process on the harness's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    settings = harness.settings
    assert settings.smtp_url is not None
    env.update(
        PORTAL_DATABASE_URL=settings.database_url,
        PORTAL_SMTP_URL=settings.smtp_url,
        PORTAL_EMAIL_FROM=EMAIL_FROM,
        PORTAL_BASE_URL=settings.base_url,
        PORTAL_INSTANCE_DIR=str(settings.instance_dir),
        PORTAL_SECRET_KEY=settings.secret_key,
    )
    return env
