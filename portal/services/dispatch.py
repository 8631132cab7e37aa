"""The notification dispatcher: claim due rows, check them again, send, record, retry.

Claims use FOR UPDATE SKIP LOCKED and a lease on PostgreSQL, so several dispatchers never take
the same row; a dispatcher killed mid-send leaves its rows to be claimed again when the lease
runs out (same idempotency key, and the same Message-ID, so a receiver can tell a repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import col

from ..clock import Clock, utcnow
from ..db import Database
from ..models import Notification, Order
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
from ..notify.channels.logfile import append_json_line
from ..notify.gate import check
from ..settings import Settings
from .links import link_is_live
from .outbox import NoticeFacts, gate_notice, order_facts

log = logging.getLogger(__name__)

RETRYABLE = ("pending", "failed")
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


class CallTaskLog:
    """Without a voice provider a phone notice is a call task for support, kept in calls.log."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "calls.log"

    async def send(self, call: OutgoingCall) -> SendResult:
        task_id = f"call-task-{uuid.uuid4()}"
        record = {"id": task_id, "to": call.to, "locale": call.locale, "script": call.script}
        try:
            await asyncio.to_thread(append_json_line, self.path, record)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.path.name}: {exc.strerror}") from exc
        return SendResult(provider_id=task_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


class Dispatcher:
    """Sends due notifications until stopped; `wake()` shortens the wait after new rows."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Channels,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        batch: int = 50,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        metrics: Any = None,
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
        self.poll_seconds = poll_seconds
        self.metrics = metrics
        self.name = name or worker_name()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._calls = CallTaskLog(settings.instance_dir)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Loop forever (cancel to stop)."""
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("dispatcher %s: a round failed; trying again", self.name)
                done = 0
            if done < self.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them; returns how many were claimed."""
        rows = await self.claim()
        if rows:
            await asyncio.gather(*(self._deliver_guarded(row) for row in rows))
        return len(rows)

    async def claim(self) -> list[Notification]:
        now = self.clock()
        async with self.db.write() as session:
            due = or_(
                col(Notification.state).in_(RETRYABLE) & (col(Notification.due_at) <= now),
                (col(Notification.state) == "sending") & (col(Notification.lease_until) < now),
            )
            stmt = (
                select(Notification)
                .where(due)
                .order_by(col(Notification.due_at))
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(stmt)).scalars())
            for row in rows:
                row.state = "sending"
                row.lease_until = now + self.lease
                row.claimed_by = self.name
                row.attempts += 1
                session.add(row)
        return rows

    async def _deliver_guarded(self, row: Notification) -> None:
        async with self._slots:
            try:
                await self.deliver(row)
            except Exception as exc:
                # A bug must not strand the row, nor retry it in a tight loop for ever: it is
                # retried with the same backoff as a channel failure, and goes dead in the end.
                log.exception(
                    "dispatcher %s: notification %s failed unexpectedly", self.name, row.id
                )
                await self._retry_or_die(row, f"internal: {type(exc).__name__}: {exc}")

    async def deliver(self, row: Notification) -> None:
        """Check `row` again and send it, if this dispatcher still holds its claim."""
        verdict = await self._recheck(row)
        if verdict is LOST:
            log.warning(
                "dispatcher %s: lost the claim on notification %s; not sending it",
                self.name,
                row.id,
            )
            return
        if verdict is not None:
            state, reason = verdict
            await self._record(row, state, blocked_reason=reason)
            return
        try:
            # Bounded well inside the lease checked above, so no other dispatcher can take the
            # row while this send is still under way.
            result = await asyncio.wait_for(self._send(row), timeout=self._send_limit)
        except TimeoutError:
            await self._retry_or_die(row, f"the send took over {self._send_limit:.0f} s")
            return
        except TemporaryFailure as exc:
            await self._retry_or_die(row, str(exc), retry_after=exc.retry_after)
            return
        except (PermanentFailure, ChannelError) as exc:
            await self._record(row, "dead", error=str(exc))
            return
        if not await self._record(row, "sent", provider_id=result.provider_id):
            log.warning(
                "dispatcher %s: notification %s was sent after its claim passed to another",
                self.name,
                row.id,
            )

    async def _retry_or_die(
        self, row: Notification, error: str, *, retry_after: float | None = None
    ) -> None:
        if row.attempts >= self.policy.max_attempts:
            await self._record(row, "dead", error=error)
            return
        delay = self.policy.delay(row.attempts)
        if retry_after:
            delay = max(delay, min(retry_after, self.policy.cap_seconds))
        await self._record(
            row, "failed", error=error, due_at=self.clock() + timedelta(seconds=delay)
        )

    async def _recheck(self, row: Notification) -> tuple[str, str] | None:
        """Make sure the claim is still ours, then run the accuracy gate again with the order
        as it is now.

        Returns None when the notice may go, (state, reason) when it may not, and LOST when
        the claim is no longer this dispatcher's: one that stalled past its lease (a long
        pause, a slow round) may find its rows claimed, and perhaps sent, by another, and must
        not send them again. Another dispatcher takes a row only once its lease has run out,
        so a claim seen with at least half a lease left stays ours through the send; with
        less left, the lease is renewed first by a conditional UPDATE that only the holder
        passes.
        """
        now = self.clock()
        async with self.db.read() as session:
            claim = (
                await session.execute(
                    select(
                        col(Notification.state),
                        col(Notification.claimed_by),
                        col(Notification.attempts),
                        col(Notification.lease_until),
                    ).where(col(Notification.id) == row.id)
                )
            ).one_or_none()
            if claim is None or tuple(claim[:3]) != ("sending", self.name, row.attempts):
                return LOST
            lease_until = claim[3]
            if lease_until is None or lease_until < now:
                return LOST
            order = await session.get(Order, row.order_id)
            live = (
                await link_is_live(session, row.portal_link_id, now)
                if order is not None and row.portal_link_id
                else False
            )
            facts = await order_facts(session, order, now, link_valid=live) if order else None
        if lease_until - now < self.lease / 2 and not await self._renew(row, now):
            return LOST
        if facts is None:
            return "blocked", "order_missing: the order no longer exists"
        verdict = check(gate_notice(row, NoticeFacts.loads(row.facts)), facts)
        if verdict.ok:
            return None
        reason = f"{verdict.reason.value if verdict.reason else ''}: {verdict.message}"[:500]
        return verdict.outcome.value, reason

    async def _renew(self, row: Notification, now: datetime) -> bool:
        """Extend the lease, only if the claim is still ours (one conditional UPDATE)."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    col(Notification.id) == row.id,
                    col(Notification.state) == "sending",
                    col(Notification.claimed_by) == self.name,
                    col(Notification.attempts) == row.attempts,
                    col(Notification.lease_until) >= now,
                )
                .values(lease_until=now + self.lease)
            )
        return _rowcount(result) == 1

    async def _send(self, row: Notification) -> SendResult:
        facts = NoticeFacts.loads(row.facts)
        if row.channel == "email":
            domain = sender_domain(self.settings.email_from)
            return await self.channels.email.send(
                OutgoingEmail(
                    to=row.recipient,
                    subject=row.subject,
                    text=row.body,
                    html=row.html,
                    unsubscribe_url=facts.portal_url.rstrip("/") + "/unsubscribe",
                    message_id=f"<{row.idempotency_key.replace(':', '.')}@{domain}>",
                    reply_to=self.settings.support_email,
                )
            )
        if row.channel == "sms":
            return await self.channels.sms.send(OutgoingSms(to=row.recipient, body=row.body))
        if row.channel == "phone":
            call = OutgoingCall(to=row.recipient, script=row.body, locale=row.locale)
            # Without a voice provider the notice is a call task for support (the calls log).
            caller = self.channels.voice or self._calls
            return await caller.send(call)
        raise PermanentFailure(f"unknown channel {row.channel!r}")

    async def _record(
        self,
        row: Notification,
        state: str,
        *,
        error: str | None = None,
        provider_id: str | None = None,
        blocked_reason: str | None = None,
        due_at: datetime | None = None,
    ) -> bool:
        """Record the outcome; False when the claim had passed to another (nothing changed)."""
        now = self.clock()
        values: dict[str, Any] = {"state": state, "lease_until": None}
        if error is not None:
            errors = json.loads(row.errors or "[]")
            errors.append({"attempt": row.attempts, "at": now.isoformat(), "error": error[:500]})
            values["errors"] = json.dumps(errors[-20:])
        if provider_id is not None:
            values["provider_id"] = provider_id
            values["sent_at"] = now
        if blocked_reason is not None:
            values["blocked_reason"] = blocked_reason
        if due_at is not None:
            values["due_at"] = due_at
        async with self.db.write() as session:
            # Only the holder of the claim records: a row whose lease ran out belongs to another.
            result = await session.execute(
                update(Notification)
                .where(
                    col(Notification.id) == row.id,
                    col(Notification.claimed_by) == self.name,
                    col(Notification.state) == "sending",
                    col(Notification.attempts) == row.attempts,
                )
                .values(**values)
            )
        if _rowcount(result) != 1:
            return False
        if self.metrics is not None:
            self.metrics.notifications.labels(row.channel, state).inc()
        return True


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def build_channels(settings: Settings) -> Channels:
    return Channels.build(
        settings.smtp_url,
        settings.sms_url,
        settings.voice_url,
        settings.instance_dir,
        settings.email_from,
        settings.sms_from,
    )


def start_in_process_dispatcher(runtime: Any) -> asyncio.Task[None]:
    """The dispatcher `portal serve` runs beside the web server."""
    channels = build_channels(runtime.settings)
    dispatcher = Dispatcher(
        runtime.db, runtime.settings, channels, clock=runtime.clock, metrics=runtime.metrics
    )
    runtime.dispatcher = dispatcher

    async def run() -> None:
        try:
            await dispatcher.run()
        finally:
            await channels.aclose()

    return asyncio.create_task(run(), name="dispatcher")


async def run_standalone(settings: Settings, *, once: bool) -> int:
    """`portal dispatch`: a dispatcher process of its own (several may run on PostgreSQL)."""
    db = Database(settings.database_url, pool_size=4)
    if not await db.is_migrated():
        await db.dispose()
        print("portal dispatch: the database is not migrated: run `portal migrate` first")
        return 1
    channels = build_channels(settings)
    dispatcher = Dispatcher(db, settings, channels, poll_seconds=0.5)
    log.info("dispatcher %s started", dispatcher.name)
    try:
        if once:
            while await dispatcher.run_once():
                pass
        else:
            await dispatcher.run()
    finally:
        await channels.aclose()
        await db.dispose()
    return 0
