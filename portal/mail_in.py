"""`portal mail-in --host H --port P`: the SMTP receiver for customers' email (aiosmtpd).

Each accepted mail is kept raw and matched (portal.services.mail_in) in one transaction before
the server answers 250, so a mail acknowledged is never lost; when the database cannot take it
the answer is 451 and the sending server tries again later. Mail over the size limit is refused
at SMTP (552, and SIZE is announced so senders know beforehand). After commit the changes are
announced like the web server's (order events on the broker, the inquiry bell), so with
PORTAL_REDIS_URL open pages and the queue update live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from realtime.broker import BrokerUnavailable, create_broker

from .clock import Clock, utcnow
from .db import Database
from .services.inquiry_watch import InquiryBell
from .services.mail_in import receive_mail
from .services.timeline import order_channel
from .settings import Settings

log = logging.getLogger(__name__)
DEFAULT_MAX_SIZE = 10 * 1024 * 1024


class MailHandler:
    """aiosmtpd handler: every DATA becomes an InboundMail row (and an inquiry message)."""

    def __init__(
        self, db: Database, settings: Settings, bell: InquiryBell, broker: Any, clock: Clock
    ) -> None:
        self.db, self.settings, self.bell, self.broker, self.clock = (
            db, settings, bell, broker, clock,
        )  # fmt: skip
        self.received = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        peer = str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer)
        try:
            outcome = await receive_mail(
                self.db,
                self.settings,
                raw,
                envelope_from=str(envelope.mail_from or ""),
                rcpt_tos=[str(r) for r in envelope.rcpt_tos],
                peer=peer,
                now=self.clock(),
            )
        except Exception:
            log.exception("mail-in: could not store a mail from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        self.received += 1
        log.info("mail-in: mail %s %s", outcome.mail_id, outcome.outcome)
        await self._announce(outcome.uow)
        return "250 2.0.0 Ok: kept"

    async def _announce(self, uow: Any) -> None:
        for published in uow.published:
            with contextlib.suppress(BrokerUnavailable):
                channel = order_channel(self.settings.instance, published.order_number)
                await self.broker.publish(channel, published.encode())
        await self.bell.ring([i for i in uow.inquiries if i is not None])


async def _ignore(_channel: str, _message: bytes) -> None:
    return None


async def start_mail_in(
    settings: Settings,
    host: str,
    port: int,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    clock: Clock = utcnow,
) -> tuple[asyncio.Server, MailHandler, Any]:
    """Start the receiver in the running loop; returns the server, its handler and a closer."""
    db = Database(settings.database_url, pool_size=4)
    if not await db.is_migrated():
        await db.dispose()
        raise RuntimeError("the database is not migrated: run `portal migrate` first")
    bell = InquiryBell(settings.redis_url, settings.instance)
    broker = create_broker(settings.redis_url, _ignore)
    await bell.start()
    await broker.start()
    handler = MailHandler(db, settings, bell, broker, clock)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="portal-mail-in", data_size_limit=max_size, loop=loop),
        host,
        port,
    )

    async def close() -> None:
        server.close()
        await server.wait_closed()
        await bell.stop()
        await broker.stop()
        await db.dispose()

    return server, handler, close


async def run_mail_in(settings: Settings, host: str, port: int, max_size: int) -> int:
    try:
        server, _, close = await start_mail_in(settings, host, port, max_size=max_size)
    except RuntimeError as exc:
        print(f"portal mail-in: {exc}")
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    where = server.sockets[0].getsockname()
    print(f"portal mail-in: receiving mail on {where[0]}:{where[1]} (limit {max_size} bytes)")
    try:
        await stop.wait()
    finally:
        await close()
    return 0
