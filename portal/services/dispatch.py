"""The notification dispatcher: claim due rows, check them again, send, record, retry.

Claims use FOR UPDATE SKIP LOCKED and a lease on PostgreSQL, so several dispatchers never take
the same row; a dispatcher killed mid-send leaves its rows to be claimed again when the lease
runs out (same idempotency key, and the same Message-ID, so a receiver can tell a repeat).
Rows are checked, sent and recorded in groups, with a few statements per group. A commit that
writes notifications rings NOTIFY portal_outbox on PostgreSQL, which wakes every dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlmodel import col

from carriers.status import ShipmentStatus
from realtime.broker import Broker, create_broker

from ..clock import Clock, utcnow
from ..db import Database
from ..domain.mail_tags import make_tag, tagged_address
from ..domain.status import OrderStatus
from ..metrics import Metrics
from ..models import Notification, Order, ShareLink, Shipment
from ..notify.channels.base import (
    ChannelError,
    OutgoingCall,
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
)
from ..notify.channels.email import sender_domain
from ..notify.channels.factory import Channels
from ..notify.gate import OrderFacts, check
from ..notify.kinds import RETRYABLE_STATES, NotificationState
from ..settings import Settings
from ..timezones import local_date
from .inquiry_replies import RepliesSent, mark_replies_sent, message_of_key
from .inquiry_watch import InquiryBell, count_breaches
from .outbox import OUTBOX_CHANNEL, NoticeFacts, customer_prefs, gate_notice
from .screen.bell import ring_orders
from .screen.calls import task_for_notice

log = logging.getLogger(__name__)

RETRYABLE = tuple(RETRYABLE_STATES)
ST = NotificationState
# What _recheck answers when the row's claim has passed to another dispatcher.
LOST = ("lost", "the claim passed to another dispatcher")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Capped exponential backoff with jitter: base * 2^(attempt-1), capped, times 0.5-1.0."""
        raw = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return raw * (0.5 + rand() / 2)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


@dataclass(slots=True)
class RowOutcome:
    """What became of one claimed row, to be recorded (only while the claim is still ours)."""

    row: Notification
    state: str
    error: str | None = None
    provider_id: str | None = None
    blocked_reason: str | None = None
    due_at: datetime | None = None


Verdict = tuple[str, str] | None


class Dispatcher:
    """Sends due notifications until stopped; `wake()` shortens the wait after new rows.

    A round claims up to `batch` rows, then works through them `concurrency` at a time: the
    group's claims and the gate are checked again with a few queries for the whole group,
    the group is sent concurrently, and its outcomes are recorded in one transaction. So a
    row is re-checked at most one group's sending time before it goes.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Channels,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        batch: int = 256,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
        heard_poll_seconds: float = 5.0,
        metrics: Metrics | None = None,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.lease = timedelta(seconds=lease_seconds)
        self._send_limit = lease_seconds / 3
        self.batch = batch
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self.heard_poll_seconds = max(poll_seconds, heard_poll_seconds)
        self._listener: OutboxListener | None = None
        self.metrics = metrics
        self.name = name or worker_name()
        self._wake = asyncio.Event()
        # Called after outcomes are recorded with the ids of their orders (the order screens'
        # doorbell); set by whoever runs the dispatcher beside a broker.
        self.announce: Callable[[set[int]], Awaitable[object]] | None = None
        self._email_domain = sender_domain(settings.email_from)
        # Told the inquiries whose replies were sent, after commit (the portal's bell).
        self.on_inquiries: Callable[[list[int]], Awaitable[None]] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Loop forever (cancel to stop). On PostgreSQL it also listens for NOTIFY
        portal_outbox, so rows committed by other processes are sent at once."""
        listener = OutboxListener(self.db.url, self.wake) if self.db.is_postgres else None
        listening = asyncio.create_task(listener.run()) if listener else None
        self._listener = listener
        try:
            while True:
                try:
                    done = await self.run_once()
                except Exception:
                    log.exception("dispatcher %s: a round failed; trying again", self.name)
                    done = 0
                if done < self.batch:
                    await self._wait(claimed=done)
        finally:
            if listening is not None:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening

    async def _wait(self, *, claimed: int) -> None:
        """Sleep until the next row falls due, a wake-up, or the poll interval, whichever is
        first. The interval is `poll_seconds`, or `heard_poll_seconds` while NOTIFYs are heard
        (then polling only backs them up)."""
        self._wake.clear()
        heard = self._listener is not None and self._listener.listening
        timeout = self.heard_poll_seconds if heard else self.poll_seconds
        try:
            next_due = await self.next_due()
        except Exception:
            log.exception("dispatcher %s: cannot look for due rows", self.name)
            next_due = None
        if next_due is not None:
            timeout = min(timeout, (next_due - self.clock()).total_seconds())
            if timeout <= 0:
                if claimed:
                    return
                # Due, yet none could be claimed: another dispatcher's claim holds them for
                # the moment. Give it a moment rather than spin.
                timeout = 0.05
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def next_due(self) -> datetime | None:
        """When the next row may be claimed (a due time, or a lease running out); one cheap
        read on the indexed state, without the write lock a claim takes."""
        state = col(Notification.state)
        stmt = select(
            func.min(col(Notification.due_at)).filter(state.in_(RETRYABLE)),
            func.min(col(Notification.lease_until)).filter(state == ST.SENDING),
        ).where(state.in_((*RETRYABLE, ST.SENDING)))
        async with self.db.read() as session:
            due, lease = (await session.execute(stmt)).one()
        times = [t for t in (due, lease) if t is not None]
        return min(times) if times else None

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them; returns how many were claimed.

        A group's outcomes are recorded while the next group is checked and sent: on a busy
        SQLite portal each write waits its turn behind the requests' writes, and one group
        need not wait for the last one's.
        """
        rows = await self.claim()
        recording: list[asyncio.Task[None]] = []
        try:
            for start in range(0, len(rows), self.concurrency):
                outcomes = await self._check_and_send(rows[start : start + self.concurrency])
                recording.append(asyncio.create_task(self._record(outcomes)))
        finally:
            results = await asyncio.gather(*recording, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(rows)

    async def claim(self) -> list[Notification]:
        now = self.clock()
        async with self.db.write() as session:
            due = or_(
                col(Notification.state).in_(RETRYABLE) & (col(Notification.due_at) <= now),
                (col(Notification.state) == ST.SENDING) & (col(Notification.lease_until) < now),
            )
            picked = (
                select(col(Notification.id))
                .where(due)
                .order_by(col(Notification.due_at))
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            ids = list((await session.execute(picked)).scalars())
            if not ids:
                return []
            claimed = (
                update(Notification)
                .where(col(Notification.id).in_(ids))
                .values(
                    state=ST.SENDING,
                    lease_until=now + self.lease,
                    claimed_by=self.name,
                    attempts=col(Notification.attempts) + 1,
                )
                .returning(Notification)
                .execution_options(synchronize_session=False)
            )
            rows = list((await session.execute(claimed)).scalars())
        rows.sort(key=lambda row: (row.due_at, row.id or 0))
        return rows

    async def deliver(self, row: Notification) -> None:
        """Check `row` again and send it, if this dispatcher still holds its claim."""
        await self.deliver_group([row])

    async def deliver_group(self, rows: list[Notification]) -> None:
        """Check claimed `rows` again together, send those that may go, record every outcome."""
        await self._record(await self._check_and_send(rows))

    async def _check_and_send(self, rows: list[Notification]) -> list[RowOutcome]:
        try:
            verdicts = await self._recheck(rows)
        except Exception as exc:
            # A bug or a lost database must not strand the rows, nor retry them in a tight
            # loop for ever: they are retried with the channel backoff and go dead in the end.
            log.exception("dispatcher %s: checking %d notifications failed", self.name, len(rows))
            error = f"internal: {type(exc).__name__}: {exc}"
            return [self._retry_or_die(row, error) for row in rows]
        outcomes: list[RowOutcome] = []
        sending: list[Notification] = []
        for row in rows:
            verdict = verdicts[row.id]
            if isinstance(verdict, Exception):
                error = f"internal: {type(verdict).__name__}: {verdict}"
                outcomes.append(self._retry_or_die(row, error))
            elif verdict is LOST:
                log.warning(
                    "dispatcher %s: lost the claim on notification %s; not sending it",
                    self.name,
                    row.id,
                )
            elif verdict is None:
                sending.append(row)
            else:
                state, reason = verdict
                outcomes.append(RowOutcome(row, state, blocked_reason=reason))
        outcomes.extend(await asyncio.gather(*(self._attempt(row) for row in sending)))
        return outcomes

    async def _attempt(self, row: Notification) -> RowOutcome:
        """Send one row; the outcome, whatever happens (never raises)."""
        try:
            # Bounded well inside the lease checked before, so no other dispatcher can take
            # the row while this send is still under way.
            result = await asyncio.wait_for(self._send(row), timeout=self._send_limit)
        except TimeoutError:
            return self._retry_or_die(row, f"the send took over {self._send_limit:.0f} s")
        except TemporaryFailure as exc:
            return self._retry_or_die(row, str(exc), retry_after=exc.retry_after)
        except (PermanentFailure, ChannelError) as exc:
            return RowOutcome(row, ST.DEAD, error=str(exc))
        except Exception as exc:
            log.exception("dispatcher %s: notification %s failed unexpectedly", self.name, row.id)
            return self._retry_or_die(row, f"internal: {type(exc).__name__}: {exc}")
        return RowOutcome(row, ST.SENT, provider_id=result.provider_id)

    def _retry_or_die(
        self, row: Notification, error: str, *, retry_after: float | None = None
    ) -> RowOutcome:
        if row.attempts >= self.policy.max_attempts:
            return RowOutcome(row, ST.DEAD, error=error)
        delay = self.policy.delay(row.attempts)
        if retry_after:
            delay = max(delay, min(retry_after, self.policy.cap_seconds))
        return RowOutcome(
            row, ST.FAILED, error=error, due_at=self.clock() + timedelta(seconds=delay)
        )

    async def _recheck(self, rows: list[Notification]) -> dict[int | None, Any]:
        """Make sure the claims are still ours, then run the accuracy gate again with the
        orders as they are now; a verdict per row id.

        A verdict is None when the notice may go, (state, reason) when it may not, and LOST
        when the claim is no longer this dispatcher's: one that stalled past its lease (a
        long pause, a slow round) may find its rows claimed, and perhaps sent, by another,
        and must not send them again. Another dispatcher takes a row only once its lease has
        run out, so a claim seen with at least half a lease left stays ours through the
        send; with less left, the lease is renewed first by a conditional UPDATE that only
        the holder passes.

        Three reads for the whole group, whatever its size: the claims with their share
        links, the orders, and the orders' shipments.
        """
        now = self.clock()
        ids = [row.id for row in rows]
        order_ids = {row.order_id for row in rows}
        async with self.db.read() as session:
            claimed: Any = select(
                col(Notification.id),
                col(Notification.state),
                col(Notification.claimed_by),
                col(Notification.attempts),
                col(Notification.lease_until),
                col(ShareLink.id).label("link_id"),
                col(ShareLink.revoked_at),
                col(ShareLink.expires_at),
            ).outerjoin(ShareLink, col(ShareLink.id) == col(Notification.portal_link_id))
            found: list[Any] = list(
                (await session.execute(claimed.where(col(Notification.id).in_(ids)))).all()
            )
            claims: dict[int | None, Any] = {claim.id: claim for claim in found}
            orders: dict[int | None, Order] = {
                order.id: order
                for order in (
                    await session.execute(select(Order).where(col(Order.id).in_(order_ids)))
                ).scalars()
            }
            shipments: dict[int | None, dict[str, str]] = {order_id: {} for order_id in orders}
            for order_id, number, carrier in (
                await session.execute(
                    select(
                        col(Shipment.order_id),
                        col(Shipment.tracking_number),
                        col(Shipment.carrier),
                    ).where(
                        col(Shipment.order_id).in_(order_ids),
                        col(Shipment.status) != ShipmentStatus.CANCELLED,
                    )
                )
            ).all():
                shipments[order_id][number] = carrier
        verdicts: dict[int | None, Any] = {}
        renew: list[Notification] = []
        for row in rows:
            claim = claims.get(row.id)
            if (
                claim is None
                or (claim.state, claim.claimed_by, claim.attempts)
                != ("sending", self.name, row.attempts)
                or claim.lease_until is None
                or claim.lease_until < now
            ):
                verdicts[row.id] = LOST
            elif claim.lease_until - now < self.lease / 2:
                renew.append(row)
        if renew:
            renewed = await self._renew(renew, now)
            verdicts.update({row.id: LOST for row in renew if row.id not in renewed})
        for row in rows:
            if row.id in verdicts:
                continue
            claim = claims[row.id]
            order = orders.get(row.order_id)
            if order is None:  # a notice about no order (the gate knows its kinds), or gone
                verdicts[row.id] = _gate(row, None)
                continue
            live = claim.link_id is not None and _link_is_live(
                claim.revoked_at, claim.expires_at, now
            )
            try:
                facts = _order_facts(order, shipments[row.order_id], now, link_valid=live)
                verdicts[row.id] = _gate(row, facts)
            except Exception as exc:
                log.exception(
                    "dispatcher %s: the gate failed on notification %s", self.name, row.id
                )
                verdicts[row.id] = exc
        return verdicts

    async def _renew(self, rows: list[Notification], now: datetime) -> set[int | None]:
        """Extend the leases still ours (one conditional UPDATE); the ids renewed."""
        async with self.db.write() as session:
            conn = await session.connection()
            result = await conn.execute(
                update(Notification)
                .where(*self._holding(rows), col(Notification.lease_until) >= now)
                .values(lease_until=now + self.lease)
                .returning(col(Notification.id))
            )
            return set(result.scalars())

    def _holding(self, rows: list[Notification]) -> tuple[Any, ...]:
        """WHERE clauses true of `rows` only while this dispatcher holds their claims."""
        return (
            col(Notification.id).in_([row.id for row in rows]),
            col(Notification.claimed_by) == self.name,
            col(Notification.state) == ST.SENDING,
            col(Notification.attempts)
            == case({row.id: row.attempts for row in rows}, value=col(Notification.id)),
        )

    async def _send(self, row: Notification) -> SendResult:
        if row.channel == "email":
            facts = NoticeFacts.loads(row.facts)
            return await self.channels.email.send(
                OutgoingEmail(
                    to=row.recipient,
                    subject=row.subject,
                    text=row.body,
                    html=row.html,
                    unsubscribe_url=f"{facts.portal_url}/unsubscribe" if facts.portal_url else None,
                    message_id=f"<{row.idempotency_key.replace(':', '.')}@{self._email_domain}>",
                    reply_to=reply_to_address(self.settings, row),
                )
            )
        if row.channel == "sms":
            sms = OutgoingSms(to=row.recipient, body=row.body, idempotency_key=row.idempotency_key)
            return await self.channels.sms.send(sms)
        if row.channel == "phone":
            # Every phone notice is a call task for support (GET /support/calls); a voice
            # provider, when set, also places an automated call.
            task_id = await task_for_notice(self.db, row, self.clock())
            if self.channels.voice is None:
                return SendResult(provider_id=f"call-task-{task_id}")
            call = OutgoingCall(to=row.recipient, script=row.body, locale=row.locale)
            return await self.channels.voice.send(call)
        raise PermanentFailure(f"unknown channel {row.channel!r}")

    async def _record(self, outcomes: list[RowOutcome]) -> None:
        """Record the outcomes in one transaction, each only if the claim is still ours: a
        row whose lease ran out belongs to another. Sent rows, the usual case, take one
        UPDATE together."""
        if not outcomes:
            return
        now = self.clock()
        sent = [o for o in outcomes if o.state == ST.SENT]
        others = [o for o in outcomes if o.state != ST.SENT]
        recorded: set[int | None] = set()
        replied = RepliesSent()
        async with self.db.write() as session:
            conn = await session.connection()
            if sent:
                rows = [o.row for o in sent]
                provider_ids = {o.row.id: o.provider_id for o in sent}
                result = await conn.execute(
                    update(Notification)
                    .where(*self._holding(rows))
                    .values(
                        state=ST.SENT,
                        lease_until=None,
                        sent_at=now,
                        provider_id=case(provider_ids, value=col(Notification.id)),
                    )
                    .returning(col(Notification.id))
                )
                recorded.update(result.scalars())
                replies = [o.row.idempotency_key for o in sent if o.row.id in recorded]
                replied = await mark_replies_sent(
                    session, replies, policy=self.settings.sla_policy, now=now
                )
            for outcome in others:
                result = await conn.execute(
                    update(Notification)
                    .where(*self._holding([outcome.row]))
                    .values(**_values(outcome, now))
                    .returning(col(Notification.id))
                )
                recorded.update(result.scalars())
        if self.metrics is not None and replied.breaches:  # else a server counts them
            await count_breaches(self.db, self.metrics)
        if sent and replied.inquiries and self.on_inquiries is not None:
            await self.on_inquiries(replied.inquiries)
        if self.announce is not None and recorded:
            orders = {o.row.order_id for o in outcomes if o.row.id in recorded}
            try:
                await self.announce({i for i in orders if i is not None})
            except Exception:
                log.warning("dispatcher %s: could not announce to order screens", self.name)
        for outcome in outcomes:
            if outcome.row.id not in recorded:
                if outcome.state == ST.SENT:
                    log.warning(
                        "dispatcher %s: notification %s was sent after its claim passed to another",
                        self.name,
                        outcome.row.id,
                    )
                continue
            if self.metrics is not None:
                self.metrics.notifications.labels(outcome.row.channel, outcome.state).inc()


def reply_to_address(settings: Settings, row: Notification) -> str:
    """Where the customer's reply goes: with PORTAL_INBOUND_ADDRESS, a tagged address that
    `portal mail-in` matches to the inquiry (a reply) or the order (any other notice)."""
    if not settings.inbound_address:
        return settings.support_email
    message_id = message_of_key(row.idempotency_key)
    kind, number = ("m", message_id) if message_id is not None else ("o", row.order_id)
    if number is None:
        return settings.support_email  # not met: a notice about no order is a reply
    return tagged_address(settings.inbound_address, make_tag(kind, number, settings.secret_key))


def _values(outcome: RowOutcome, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"state": outcome.state, "lease_until": None}
    if outcome.error is not None:
        errors = json.loads(outcome.row.errors or "[]")
        errors.append(
            {"attempt": outcome.row.attempts, "at": now.isoformat(), "error": outcome.error[:500]}
        )
        values["errors"] = json.dumps(errors[-20:])
    if outcome.provider_id is not None:
        values["provider_id"] = outcome.provider_id
        values["sent_at"] = now
    if outcome.blocked_reason is not None:
        values["blocked_reason"] = outcome.blocked_reason
    if outcome.due_at is not None:
        values["due_at"] = outcome.due_at
    return values


def _link_is_live(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


def _order_facts(
    order: Order, shipments: dict[str, str], now: datetime, *, link_valid: bool
) -> OrderFacts:
    """The gate's view of `order` (as outbox.order_facts, with the shipments loaded)."""
    return OrderFacts(
        status=OrderStatus(order.status),
        portal_link_valid=link_valid,
        today=local_date(now, order.timezone),
        shipments=shipments,
        opted_out=customer_prefs(order).opted_out,
    )


def _gate(row: Notification, facts: OrderFacts | None) -> Verdict:
    verdict = check(gate_notice(row, NoticeFacts.loads(row.facts)), facts)
    if verdict.ok:
        return None
    reason = f"{verdict.reason.value if verdict.reason else ''}: {verdict.message}"[:500]
    return verdict.outcome.value, reason


class OutboxListener:
    """LISTEN on OUTBOX_CHANNEL over a PostgreSQL connection of its own.

    `on_notify` runs on every NOTIFY, and after every (re)connection (rows may have been
    committed while nobody listened). A lost connection is made again after `retry_seconds`.
    """

    def __init__(
        self, url: str, on_notify: Callable[[], None], *, retry_seconds: float = 1.0
    ) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._on_notify = on_notify
        self.retry_seconds = retry_seconds
        self.listening = False

    async def _listen(self, conn: Any) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._on_notify())
        self.listening = True
        self._on_notify()
        await lost.wait()
        log.warning("LISTEN %s: the connection was lost", OUTBOX_CHANNEL)

    async def run(self) -> None:
        """Listen until cancelled."""
        import asyncpg

        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=10)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("cannot LISTEN %s: %s", OUTBOX_CHANNEL, type(exc).__name__)
                await asyncio.sleep(self.retry_seconds)
                continue
            try:
                await self._listen(conn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN %s failed: %s", OUTBOX_CHANNEL, type(exc).__name__)
            finally:
                self.listening = False
                await _close(conn)
            await asyncio.sleep(self.retry_seconds)


async def _close(conn: Any) -> None:
    if conn.is_closed():
        return
    try:
        await conn.close(timeout=2)
    except Exception:
        conn.terminate()


# SMTP connections a dispatcher keeps open: half a group of sends may be email.
SMTP_CONNECTIONS = 8


def build_channels(settings: Settings) -> Channels:
    return Channels.build(
        settings.smtp_url,
        settings.sms_url,
        settings.voice_url,
        settings.instance_dir,
        settings.email_from,
        settings.sms_from,
        smtp_connections=SMTP_CONNECTIONS,
    )


def in_process_dispatcher(
    settings: Settings,
    clock: Clock,
    metrics: Any,
    broker: Broker,
    web_db: Database,
    inquiry_bell: InquiryBell,
) -> Dispatcher:
    """The dispatcher `portal serve` runs beside the web server (started by
    :func:`run_in_process`).

    It has a Database of its own (a pool of two). Sharing the web server's, it would wait
    behind every request in flight for each of its few statements, and fall further behind
    the busier the portal is: on SQLite each of its writes would queue behind all the
    requests' writes for the in-process write lock. Its own SQLite writers take the file's
    lock as a separate `portal dispatch` does (BEGIN IMMEDIATE, busy timeout).
    """
    own_db = Database(settings.database_url, pool_size=2)
    channels = build_channels(settings)
    dispatcher = Dispatcher(own_db, settings, channels, clock=clock, metrics=metrics)

    dispatcher.on_inquiries = inquiry_bell.ring

    async def announce(order_ids: set[int]) -> None:
        await ring_orders(web_db, broker, settings.instance, order_ids)

    dispatcher.announce = announce
    return dispatcher


async def run_in_process(dispatcher: Dispatcher) -> None:
    """Run an in-process dispatcher until cancelled, then close its channels and database."""
    try:
        await dispatcher.run()
    finally:
        await dispatcher.channels.aclose()
        await dispatcher.db.dispose()


async def run_standalone(settings: Settings, *, once: bool) -> int:
    """`portal dispatch`: a dispatcher process of its own (several may run on PostgreSQL)."""
    db = Database(settings.database_url, pool_size=4)
    if not await db.is_migrated():
        await db.dispose()
        print("portal dispatch: the database is not migrated: run `portal migrate` first")
        return 1
    channels = build_channels(settings)
    # SQLite has no NOTIFY: a separate dispatcher polls, with a cheap read (next_due) that
    # takes no write lock. On PostgreSQL it is woken by NOTIFY and polls as a back-up.
    dispatcher = Dispatcher(db, settings, channels, poll_seconds=0.5 if db.is_postgres else 0.1)
    broker = _announcing(dispatcher, db, settings)
    bell = InquiryBell(settings.redis_url, settings.instance) if settings.redis_url else None
    if broker is not None:
        await broker.start()
    if bell is not None:
        # Replies sent here move the queue of every server (through Redis).
        await bell.start()
        dispatcher.on_inquiries = bell.ring
    log.info("dispatcher %s started", dispatcher.name)
    try:
        if once:
            while await dispatcher.run_once():
                pass
        else:
            await dispatcher.run()
    finally:
        if broker is not None:
            await broker.stop()
        if bell is not None:
            await bell.stop()
        await channels.aclose()
        await db.dispose()
    return 0


def _announcing(dispatcher: Dispatcher, db: Database, settings: Settings) -> Broker | None:
    """A separate dispatcher reaches the servers' order screens only through Redis."""
    if not settings.redis_url:
        return None

    async def ignore(channel: str, message: bytes) -> None:
        return None

    broker = create_broker(settings.redis_url, ignore)

    async def announce(order_ids: set[int]) -> None:
        await ring_orders(db, broker, settings.instance, order_ids)

    dispatcher.announce = announce
    return broker
