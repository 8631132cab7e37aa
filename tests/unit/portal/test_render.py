"""The one renderer: page region, snapshot and per-event increments agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from portal.services.views import EventView, OrderView
from portal.web.render import LiveContext, LiveRenderer, make_environment

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CTX = LiveContext(feedback_csrf="c" * 64, review_url=None)


def event(seq: int, minutes: int, status: str = "in_transit", message: str = "") -> EventView:
    return EventView(
        seq=seq,
        kind="checkpoint",
        status=status,
        occurred_at=T0 + timedelta(minutes=minutes),
        recorded_at=T0,
        message=message or f"event {seq}",
        location="Leipzig, SN, DE",
        reason_code=None,
        shipment_id=None,
        applied=True,
    )


def view(events: list[EventView], status: str = "in_transit") -> OrderView:
    return OrderView(
        id=1,
        order_number="A1",
        status=status,
        customer_name="Ada",
        customer_email="ada@example.com",
        customer_phone=None,
        locale="en",
        timezone="Europe/London",
        promised_ship_by=None,
        promised_deliver_by=date(2027, 3, 4),
        estimated_delivery=date(2027, 3, 3),
        created_at=T0,
        last_seq=max(e.seq for e in events),
        items=(),
        shipments=(),
        events=tuple(events),
        delays=(),
        feedback=None,
    )


def renderer() -> LiveRenderer:
    return LiveRenderer(make_environment())


def test_region_lists_newest_first() -> None:
    html = renderer().region(view([event(1, 0), event(2, 30), event(3, 10)]), CTX)
    assert re.findall(r'id="ev-(\d+)"', html) == ["2", "3", "1"]


def test_snapshot_wraps_the_region_out_of_band() -> None:
    html = renderer().snapshot(view([event(1, 0)]), CTX)
    assert html.startswith('<div id="live" hx-swap-oob="true">')


def test_one_frame_per_new_event_state_on_the_last() -> None:
    frames = renderer().increments(
        view([event(1, 0), event(2, 10), event(3, 20)]), CTX, after_seq=1
    )
    assert [seq for seq, _ in frames] == [2, 3]
    assert 'id="order-status" hx-swap-oob="true"' not in frames[0][1]
    assert 'id="order-status" hx-swap-oob="true"' in frames[1][1]
    assert 'hx-swap-oob="afterbegin:#timeline"' in frames[0][1]


def test_an_older_checkpoint_goes_in_its_right_place() -> None:
    # Page shows 1 (t=0) and 2 (t=30); event 3 happened at t=10: it goes before #ev-1 (below 2).
    frames = renderer().increments(
        view([event(1, 0), event(2, 30), event(3, 10)]), CTX, after_seq=2
    )
    assert 'hx-swap-oob="beforebegin:#ev-1"' in frames[0][1]


def test_the_oldest_event_goes_at_the_end() -> None:
    frames = renderer().increments(view([event(1, 10), event(2, 0)]), CTX, after_seq=1)
    assert 'hx-swap-oob="beforeend:#timeline"' in frames[0][1]


def test_nothing_new_no_frames() -> None:
    assert renderer().increments(view([event(1, 0)]), CTX, after_seq=1) == []


def test_feedback_form_appears_when_delivered() -> None:
    frames = renderer().increments(
        view([event(1, 0), event(2, 5, "delivered")], status="delivered"), CTX, 1
    )
    assert 'class="feedback-form form"' in frames[-1][1]
    html = renderer().region(view([event(1, 0)]), CTX)
    assert "feedback-form" not in html


def test_text_is_escaped() -> None:
    html = renderer().region(view([event(1, 0, message="<script>alert(1)</script>")]), CTX)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
