"""Kept SMTP connections against a real aiosmtpd server that drops them at awkward moments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal.notify.channels import OutgoingEmail, TemporaryFailure
from portal.notify.channels.email import SmtpEmailClient

FROM = "Example Shop <no-reply@shop.example>"


def message(n: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=f"customer{n}@example.com",
        subject=f"Order {n}",
        text=f"Message {n}.\n",
        message_id=f"<n-{n}@shop.example>",
    )


@dataclass
class Flaky:
    """An aiosmtpd handler that counts connections and can misbehave on cue.

    `drop_before_mail`: numbers of MAIL commands (counted over all connections, from 1) on
    which the server drops the connection without answering. `close_after_mail`: answer 421
    and close on the MAIL command. `drop_in_data`: drop instead of answering DATA for these
    message numbers (the message is then not accepted).
    """

    drop_before_mail: set[int] = field(default_factory=set)
    close_after_mail: set[int] = field(default_factory=set)
    drop_in_data: set[int] = field(default_factory=set)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    mails: int = 0
    datas: int = 0
    accepted: list[str] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.mails += 1
        assert server.transport is not None
        if self.mails in self.drop_before_mail:
            server.transport.close()
            return "421 4.3.2 gone"
        if self.mails in self.close_after_mail:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 too many messages on this connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.datas += 1
        assert server.transport is not None
        if self.datas in self.drop_in_data:
            server.transport.close()
            return "451 4.3.0 never seen"
        content = envelope.original_content
        assert content is not None
        parsed = message_from_bytes(content, policy=policy.default)
        self.accepted.append(str(parsed["Message-ID"]))
        return "250 2.0.0 Ok: queued"


class CountingSMTP(SMTP):
    def __init__(self, handler: Flaky, **options: Any) -> None:
        super().__init__(handler, **options)
        self.flaky = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.flaky.connections += 1
        self.flaky.open_now += 1
        self.flaky.most_open = max(self.flaky.most_open, self.flaky.open_now)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.flaky.open_now -= 1
        super().connection_lost(error)


@asynccontextmanager
async def flaky_server(handler: Flaky) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: CountingSMTP(handler, hostname="localhost", loop=loop), "127.0.0.1", 0
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def pooled(
    port: int, connections: int = 2, *, max_idle_seconds: float = 10.0, max_messages: int = 100
) -> AsyncIterator[SmtpEmailClient]:
    client = SmtpEmailClient(
        f"smtp://127.0.0.1:{port}",
        FROM,
        timeout=5,
        local_hostname="localhost",
        connections=connections,
        max_idle_seconds=max_idle_seconds,
        max_messages=max_messages,
    )
    try:
        yield client
    finally:
        await client.aclose()


async def settle(handler: Flaky) -> None:
    """Let the server see the client's QUITs and closes."""
    for _ in range(100):
        if handler.open_now == 0:
            return
        await asyncio.sleep(0.01)


async def test_one_connection_carries_many_messages() -> None:
    handler = Flaky()
    async with flaky_server(handler) as port:
        async with pooled(port) as client:
            for n in range(5):
                result = await client.send(message(n))
                assert result.provider_id == f"<n-{n}@shop.example>"
        await settle(handler)
    assert handler.connections == 1
    assert handler.accepted == [f"<n-{n}@shop.example>" for n in range(5)]
    assert handler.open_now == 0  # aclose said QUIT


async def test_concurrent_sends_stay_within_the_bound() -> None:
    handler = Flaky()
    async with flaky_server(handler) as port:
        async with pooled(port, connections=3) as client:
            await asyncio.gather(*(client.send(message(n)) for n in range(20)))
        await settle(handler)
    assert sorted(handler.accepted) == sorted(f"<n-{n}@shop.example>" for n in range(20))
    assert handler.most_open <= 3
    assert handler.connections <= 3


async def test_a_kept_connection_dropped_before_mail_is_replaced_and_the_message_sent() -> None:
    handler = Flaky(drop_before_mail={3})
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1) as client:
            for n in range(5):
                await client.send(message(n))
        await settle(handler)
    assert handler.accepted == [f"<n-{n}@shop.example>" for n in range(5)]
    assert handler.connections == 2


async def test_a_421_on_a_kept_connection_moves_the_message_to_a_fresh_one() -> None:
    handler = Flaky(close_after_mail={2})
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1) as client:
            for n in range(4):
                await client.send(message(n))
        await settle(handler)
    assert handler.accepted == [f"<n-{n}@shop.example>" for n in range(4)]
    assert handler.connections == 2


async def test_a_connection_idle_past_its_limit_is_not_reused() -> None:
    handler = Flaky()
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1, max_idle_seconds=0.05) as client:
            await client.send(message(1))
            await asyncio.sleep(0.1)
            await client.send(message(2))
        await settle(handler)
    assert handler.connections == 2
    assert len(handler.accepted) == 2


async def test_a_connection_is_renewed_after_its_message_limit() -> None:
    handler = Flaky()
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1, max_messages=2) as client:
            for n in range(5):
                await client.send(message(n))
        await settle(handler)
    assert handler.connections == 3
    assert len(handler.accepted) == 5


async def test_a_drop_during_data_is_temporary_and_the_next_send_reconnects() -> None:
    # The server may or may not have the message: the caller retries it later (the same
    # Message-ID lets a receiver tell a repeat); it is never reported as sent.
    handler = Flaky(drop_in_data={2})
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1) as client:
            await client.send(message(1))
            with pytest.raises(TemporaryFailure):
                await client.send(message(2))
            await client.send(message(3))
            await client.send(message(2))
        await settle(handler)
    assert handler.accepted == ["<n-1@shop.example>", "<n-3@shop.example>", "<n-2@shop.example>"]
    assert handler.connections == 2


async def test_a_cancelled_send_does_not_leave_its_connection_for_reuse() -> None:
    handler = Flaky()
    async with flaky_server(handler) as port:
        async with pooled(port, connections=1) as client:
            await client.send(message(1))
            task = asyncio.create_task(client.send(message(2)))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await client.send(message(3))
        await settle(handler)
    assert "<n-3@shop.example>" in handler.accepted
    assert handler.connections == 2
