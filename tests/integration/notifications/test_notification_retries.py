"""Failures, backoff and leases: a notice is retried, given up on, or taken over, never doubled."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

from portal.notify.channels import Channels, OutgoingEmail, SendResult
from portal.services.dispatch import RetryPolicy, build_channels
from tests.integration.notifications.conftest import Harness, free_port


async def test_smtp_down_backs_off_then_goes_dead(harness: Harness) -> None:
    policy = RetryPolicy()
    order = await harness.create_order(phone=None)
    number = order["order_number"]
    dead_smtp = replace(harness.settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    async with build_channels(dead_smtp) as channels:
        dispatcher = harness.dispatcher(channels=channels, policy=policy)
        for attempt in range(1, policy.max_attempts + 1):
            before = harness.clock()
            assert await dispatcher.run_once() == 1
            row = await harness.row(number, "order_confirmation", "email")
            assert row.attempts == attempt
            errors = json.loads(row.errors)
            assert [e["attempt"] for e in errors] == list(range(1, attempt + 1))
            assert "SMTP 127.0.0.1" in errors[-1]["error"]
            assert row.sent_at is None and row.lease_until is None
            if attempt == policy.max_attempts:
                assert row.state == "dead"
                break
            assert row.state == "failed"
            backoff = min(policy.cap_seconds, policy.base_seconds * 2 ** (attempt - 1))
            wait = (row.due_at - before).total_seconds()
            assert backoff / 2 <= wait <= backoff, (attempt, wait)
            # Not due yet: nothing to claim.
            harness.clock.advance(seconds=wait - 1)
            assert await dispatcher.run_once() == 0
            harness.clock.advance(seconds=1)

        # Dead is final: no further attempt, even much later.
        harness.clock.advance(hours=24)
        assert await dispatcher.run_once() == 0

    assert harness.smtp.messages == []
    listed = (await harness.portal.get(f"/api/v1/orders/{number}/notifications")).json()
    [item] = listed["notifications"]
    assert item["state"] == "dead" and item["attempts"] == policy.max_attempts
    answer = await harness.portal.get(f"/api/v1/orders/{number}")
    assert answer.json()["status"] == "placed"
    # The order goes on: the next milestone is written and sent once SMTP is back.
    await harness.post(f"/api/v1/orders/{number}/status", {"status": "processing"})
    assert await harness.drain() == 1
    assert len(harness.smtp.with_subject("being prepared")) == 1


async def test_a_dispatcher_killed_mid_claim_is_taken_over_after_its_lease(
    harness: Harness,
) -> None:
    order = await harness.create_order()
    number = order["order_number"]
    first = harness.dispatcher(lease_seconds=60)
    second = harness.dispatcher(lease_seconds=60)

    claimed = await first.claim()  # ... and then the first dispatcher dies: nothing is sent
    assert len(claimed) == 2
    rows = await harness.rows(number)
    assert {(r.state, r.claimed_by) for r in rows} == {("sending", first.name)}

    harness.clock.advance(seconds=59)
    assert await second.run_once() == 0  # the lease still holds

    harness.clock.advance(seconds=2)
    assert await second.run_once() == 2
    rows = await harness.rows(number)
    assert {(r.state, r.claimed_by, r.attempts) for r in rows} == {("sent", second.name, 2)}
    keys = {r.idempotency_key for r in rows}
    assert keys == {r.idempotency_key for r in claimed}
    email = next(r for r in rows if r.channel == "email")
    assert harness.smtp.message_ids() == {email.provider_id: 1}
    assert len(harness.sms.received) == 1

    # The first dispatcher was only stalled, not dead: when it resumes with the rows it
    # claimed, it must notice they are no longer its own and send nothing.
    for row in claimed:
        await first.deliver(row)
    assert harness.smtp.message_ids() == {email.provider_id: 1}
    assert len(harness.sms.received) == 1
    rows = await harness.rows(number)
    assert {(r.state, r.claimed_by) for r in rows} == {("sent", second.name)}

    harness.clock.advance(minutes=5)
    assert await second.run_once() == 0
    assert await first.run_once() == 0


async def test_same_message_id_when_a_send_is_repeated(harness: Harness) -> None:
    # A send that reached the server but whose outcome was lost (the dispatcher died before
    # recording it) goes again after the lease, with the same Message-ID.
    order = await harness.create_order(phone=None)
    first = harness.dispatcher()
    [row] = await first.claim()
    await first._send(row)  # delivered, then the process died before recording
    harness.clock.advance(seconds=61)
    assert await harness.drain() == 1
    [again] = await harness.rows(order["order_number"])
    assert again.state == "sent"
    assert harness.smtp.message_ids() == {again.provider_id: 2}
    assert again.provider_id == f"<{again.idempotency_key.replace(':', '.')}@shop.example>"
    assert timedelta(0) <= harness.clock() - again.created_at


class BrokenEmail:
    """An email client with a bug: it raises something no channel should."""

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: OutgoingEmail) -> SendResult:
        self.calls += 1
        raise RuntimeError("boom")


async def test_an_unexpected_error_backs_off_and_ends_dead(harness: Harness) -> None:
    policy = RetryPolicy(max_attempts=3)
    order = await harness.create_order(phone=None)
    broken = BrokenEmail()
    channels = Channels(email=broken, sms=harness.channels.sms, voice=None)
    dispatcher = harness.dispatcher(channels=channels, policy=policy)
    assert await dispatcher.run_once() == 1
    [row] = await harness.rows(order["order_number"])
    assert row.state == "failed" and row.attempts == 1
    assert row.due_at > harness.clock()
    assert "internal: RuntimeError: boom" in json.loads(row.errors)[0]["error"]
    # Not retried at once (no tight loop) ...
    assert await dispatcher.run_once() == 0
    # ... and given up after the policy's attempts.
    for _ in range(policy.max_attempts):
        harness.clock.advance(seconds=policy.cap_seconds)
        await dispatcher.run_once()
    [row] = await harness.rows(order["order_number"])
    assert row.state == "dead" and row.attempts == policy.max_attempts
    assert broken.calls == policy.max_attempts


async def test_a_slow_round_renews_its_lease_or_lets_the_row_go(harness: Harness) -> None:
    order = await harness.create_order(phone=None)
    number = order["order_number"]
    dispatcher = harness.dispatcher(lease_seconds=60)

    # Less than half the lease left: renewed before sending, then sent.
    [row] = await dispatcher.claim()
    harness.clock.advance(seconds=40)
    await dispatcher.deliver(row)
    assert (await harness.row(number, "order_confirmation", "email")).state == "sent"
    assert len(harness.smtp.messages) == 1

    # The lease ran out (nobody took the row yet): not sent now, but claimed again and sent.
    await harness.post(f"/api/v1/orders/{number}/status", {"status": "processing"})
    [row] = await dispatcher.claim()
    harness.clock.advance(seconds=61)
    await dispatcher.deliver(row)
    late = await harness.row(number, "status_update", "email")
    assert (late.state, late.attempts) == ("sending", 1)
    assert len(harness.smtp.messages) == 1
    assert await dispatcher.run_once() == 1
    late = await harness.row(number, "status_update", "email")
    assert (late.state, late.attempts) == ("sent", 2)
    assert len(harness.smtp.messages) == 2


class HangingEmail:
    """An email client whose server accepts the connection and then never answers."""

    async def send(self, message: OutgoingEmail) -> SendResult:
        await asyncio.sleep(60)
        raise AssertionError("not reached")


async def test_a_send_that_hangs_is_cut_off_inside_the_lease(harness: Harness) -> None:
    order = await harness.create_order(phone=None)
    channels = Channels(email=HangingEmail(), sms=harness.channels.sms, voice=None)
    dispatcher = harness.dispatcher(channels=channels, lease_seconds=3)  # sends get 1 s
    started = asyncio.get_running_loop().time()
    assert await dispatcher.run_once() == 1
    assert asyncio.get_running_loop().time() - started < 10
    [row] = await harness.rows(order["order_number"])
    assert (row.state, row.attempts) == ("failed", 1)
    assert json.loads(row.errors)[0]["error"] == "the send took over 1 s"
    assert row.due_at > harness.clock()
