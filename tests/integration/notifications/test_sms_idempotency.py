"""SMS carries the provider's Idempotency-Key: a timeout after acceptance is retried with the same
key, and the provider (like Twilio) keeps one message, so the customer gets one text."""

from __future__ import annotations

from portal.notify.channels import Channels
from portal.services.dispatch import RetryPolicy
from tests.integration.notifications.conftest import Harness


async def test_a_timeout_after_acceptance_does_not_send_twice(harness: Harness) -> None:
    order = await harness.create_order()
    number = order["order_number"]
    settings = harness.settings
    harness.sms.stall_first = 1.5  # accepted, then the answer comes too late
    channels = Channels.build(
        settings.smtp_url,
        settings.sms_url,
        None,
        settings.instance_dir,
        settings.email_from,
        settings.sms_from,
        timeout=0.5,
    )
    async with channels:
        dispatcher = harness.dispatcher(channels=channels, policy=RetryPolicy())
        await dispatcher.run_once()
        row = await harness.row(number, "order_confirmation", "sms")
        assert row.state == "failed" and row.attempts == 1
        assert "timed out" in row.errors
        harness.clock.advance(minutes=10)
        await harness.drain(dispatcher)
    row = await harness.row(number, "order_confirmation", "sms")
    assert row.state == "sent" and row.attempts == 2
    # Both attempts named the row's key; the provider kept one message.
    assert harness.sms.keys == [row.idempotency_key, row.idempotency_key]
    assert len(harness.sms.received) == 1
    assert number in harness.sms.received[0]["Body"]


async def test_every_sms_names_its_notification_key(harness: Harness) -> None:
    order = await harness.create_order()
    await harness.drain()
    row = await harness.row(order["order_number"], "order_confirmation", "sms")
    assert row.state == "sent"
    assert harness.sms.keys == [row.idempotency_key]
