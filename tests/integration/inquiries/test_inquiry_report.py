"""The reports' inquiry figures from real inquiries: the SLA clock stores the first response's
business minutes, and an inquiry counts after a notice only when opened after it was sent."""

from __future__ import annotations

from tests.integration.inquiries.conftest import Desk


async def test_first_response_minutes_and_inquiries_after_a_notice(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])
    assert (await desk.row(opened["id"])).first_response_minutes is None
    desk.clock.advance(minutes=30)
    await desk.reply(opened["id"], "It is at the depot.")
    assert (await desk.row(opened["id"])).first_response_minutes is None  # typed, not sent
    desk.clock.advance(minutes=5)
    await desk.drain()  # sends the reply and the order's confirmation
    # The policy here is open round the clock: 35 business minutes are 35 minutes.
    assert (await desk.row(opened["id"])).first_response_minutes == 35.0

    body = (await desk.portal.get("/api/v1/reports")).json()
    first = next(row for row in body["sla"] if row["target"] == "first_response")
    assert first == {
        "target": "first_response",
        "inquiries": 1,
        "met": 1,
        "breached": 0,
        "met_share": 1.0,
        "median_minutes": 35.0,
        "p90_minutes": 35.0,
    }

    def asked_after(report: dict[str, object]) -> dict[str, object]:
        rows = report["inquiries_after_notice"]
        assert isinstance(rows, list)
        return next(r for r in rows if (r["kind"], r["channel"]) == ("order_confirmation", "email"))

    # The question came before the confirmation was sent: it did not follow it.
    assert asked_after(body)["inquiries_48h"] == 0
    desk.clock.advance(hours=1)
    await desk.ask(order["order_number"], "And when will it arrive?")
    body = (await desk.portal.get("/api/v1/reports")).json()
    row = asked_after(body)
    assert (row["orders_notified"], row["inquiries_48h"], row["inquiry_share"]) == (1, 1, 1.0)
