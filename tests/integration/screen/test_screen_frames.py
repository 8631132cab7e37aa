"""The order screen's live frames carry only what changed: the parts the doorbell names, and
of those only what differs from the frame before; a snapshot or a repair is every part."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import col

from portal.models import Notification
from portal.services.screen.bell import CUSTOMER, INTERACTIONS, LINKS, NOTIFICATIONS, screen_bell
from portal.services.timeline import Published
from tests.integration.conftest import Portal
from tests.integration.screen.screen_helpers import (
    drain,
    notifications_of,
    order_row,
    shipped_order,
)
from tests.integration.webhook_helpers import send_generic

ALL_PARTS = (
    'id="order-status"',
    'id="screen-customer"',
    'id="screen-delays"',
    'id="shipments"',
    'id="screen-notifications"',
    'id="screen-links"',
    'id="screen-interactions"',
    'id="screen-calls"',
    'id="screen-feedback"',
    'id="screen-timeline"',
)


def parts_in(html: str) -> set[str]:
    return {part for part in ALL_PARTS if part in html}


async def test_a_checkpoint_sends_its_entry_not_the_whole_screen(portal: Portal) -> None:
    number, tracking, _ = await shipped_order(portal)
    await drain(portal)
    feed = portal.runtime.screen_feed
    snapshot = (await feed.snapshot(number)).data.decode()
    assert parts_in(snapshot) == set(ALL_PARTS)

    answer = await send_generic(portal, tracking, "out_for_delivery", "With the driver")
    assert answer.status_code == 200, answer.text
    order = await order_row(portal, number)
    event = Published(number, order.last_seq, "checkpoint", "out_for_delivery").encode()
    [frame] = await feed.increments(number, 0, event)
    html = frame.data.decode()
    # The new entry goes in at the top of the timeline, with the count; status and shipment
    # changed; the staff-only parts that did not change are not sent.
    assert f'hx-swap-oob="afterbegin:#timeline"><li class="event" id="ev-{order.last_seq}"' in html
    before = int(re.search(r"Timeline \((\d+) events\)", snapshot).group(1))  # type: ignore[union-attr]
    added = html.count('<li class="event')
    assert added >= 1
    assert f'id="timeline-heading" hx-swap-oob="true">Timeline ({before + added} events)' in html
    assert "With the driver" in html and 'id="order-status"' in html
    # (The notice it queued made a share link: the links part is sent too.)
    assert not parts_in(html) & {'id="screen-interactions"', 'id="screen-calls"'}
    assert not parts_in(html) & {'id="screen-customer"', 'id="screen-delays"'}
    assert 'id="screen-timeline"' not in html  # not the whole timeline
    # The notice the checkpoint queued is added, not the whole list.
    assert 'hx-swap-oob="afterend:#notifications-heading"' in html
    assert 'id="screen-notifications"' not in html
    older = re.findall(r'<li class="event[^"]*" id="(ev-\d+)"', snapshot)
    assert older and not any(f'id="{entry}"' in html for entry in older)  # they stay put

    # Once sent, the notice is replaced on its own.
    await drain(portal)
    rows = await notifications_of(portal, number)
    bell = screen_bell(number, order.last_seq, (NOTIFICATIONS,)).encode()
    [sent] = await feed.increments(number, frame.seq, bell)
    assert f'id="notification-{rows[-1].id}" hx-swap-oob="true"' in sent.data.decode()
    assert parts_in(sent.data.decode()) == set()
    assert sent.seq == frame.seq + 1


async def test_a_doorbell_renders_only_the_parts_it_names(portal: Portal) -> None:
    number, _, _ = await shipped_order(portal)
    feed = portal.runtime.screen_feed
    await feed.snapshot(number)
    links = (await portal.get(f"/api/v1/orders/{number}/links")).json()["links"]
    revoked = await portal.post(f"/api/v1/orders/{number}/links/{links[0]['id']}/revoke", {})
    assert revoked.status_code == 200, revoked.text
    order = await order_row(portal, number)
    bell = screen_bell(number, order.last_seq, (LINKS, INTERACTIONS)).encode()
    [frame] = await feed.increments(number, 0, bell)
    html = frame.data.decode()
    assert parts_in(html) == {'id="screen-links"', 'id="screen-interactions"'}
    assert "revoked <time" in html
    # The same ring again: nothing changed, an empty frame (the version still moves on).
    [again] = await feed.increments(number, frame.seq, bell)
    assert again.data == b"" and again.seq == frame.seq + 1
    # A repair (a gap, a reconnect) is every part, whole.
    [repair] = await feed.increments(number, again.seq, None)
    assert parts_in(repair.data.decode()) == set(ALL_PARTS)


async def test_a_snapshot_does_not_hide_a_change_from_earlier_viewers(portal: Portal) -> None:
    """A snapshot that already shows a change must not make the next frame skip it: the
    screens open since before the snapshot do not have it."""
    number, _, _ = await shipped_order(portal)
    feed = portal.runtime.screen_feed
    await feed.snapshot(number)
    [row, *_] = await notifications_of(portal, number)
    async with portal.runtime.db.write() as session:
        await session.execute(
            sa.update(Notification).where(col(Notification.id) == row.id).values(attempts=7)
        )
    await feed.snapshot(number)  # a second screen opens: it shows 7 attempts
    order = await order_row(portal, number)
    bell = screen_bell(number, order.last_seq, (NOTIFICATIONS,)).encode()
    [frame] = await feed.increments(number, 0, bell)
    assert f'id="notification-{row.id}" hx-swap-oob="true"' in frame.data.decode()
    assert "7 attempts" in frame.data.decode()


async def test_a_doorbell_for_a_few_parts_reads_only_those(portal: Portal) -> None:
    """A page visit rings for the links and the customer card: its frame reads neither the
    timeline nor the notices (an order screen may have hundreds of each)."""
    number, _, _ = await shipped_order(portal)
    feed = portal.runtime.screen_feed
    await feed.snapshot(number)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lower())

    engine = portal.runtime.db.engine.sync_engine
    order = await order_row(portal, number)
    bell = screen_bell(number, order.last_seq, (LINKS, CUSTOMER)).encode()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        [frame] = await feed.increments(number, 0, bell)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and not any("from order_events" in s for s in statements)
    assert not any("from notifications" in s for s in statements)
    assert any("from share_links" in s for s in statements)
    assert frame.data == b""  # nothing changed meanwhile
    # An order whose last frame was forgotten gets a whole one, from a whole read.
    feed.frames._shown.clear()
    statements.clear()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        [whole] = await feed.increments(number, frame.seq, bell)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert parts_in(whole.data.decode()) == set(ALL_PARTS)
    assert any("from order_events" in s for s in statements)
