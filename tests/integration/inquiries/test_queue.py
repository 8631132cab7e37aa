"""The queue on /support (SQLite and PostgreSQL): order, filters, assigning; and WS
/support/ws/queue: refused without a session or from elsewhere, and pushing every change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from portal.settings import Settings
from tests.eventually import eventually
from tests.integration.inquiries.conftest import ALWAYS_OPEN, Desk
from tests.integration.live.conftest import MakePortal, make_portal  # noqa: F401
from tests.integration.live.helpers import Watcher
from tests.integration.screen.test_screen_socket import screen_url, signed_in_cookie
from tests.integration.staff_helpers import staff_client


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Round the clock, so due times follow the frozen clock whatever the hour of the run."""
    return replace(settings, sla_policy=ALWAYS_OPEN)


async def test_the_queue_lists_breached_first_and_filters(desk: Desk) -> None:
    order = await desk.create_order()
    low = await desk.ask(order["order_number"], priority="low", subject="Low one")
    urgent = await desk.ask(order["order_number"], priority="urgent", subject="Urgent one")
    desk.clock.advance(minutes=40)
    async with staff_client(desk.portal, role="agent") as agent:
        page = (await agent.get("/support")).text
        assert page.index("Urgent one") < page.index("Low one")
        assert f'id="queue-{urgent["id"]}" data-state="breached"' in page
        assert 'ws-connect="/support/ws/queue?view=all"' in page
        assert f'id="queue-{low["id"]}" data-state="ok"' in page
        breached = (await agent.get("/support?view=breached")).text
        assert "Urgent one" in breached and "Low one" not in breached
        by_priority = (await agent.get("/support?priority=low")).text
        assert "Low one" in by_priority and "Urgent one" not in by_priority
        assert "Low one" not in (await agent.get("/support?view=mine")).text
        # Without JavaScript: the page's own form carries the token.
        assert f'name="csrf_token" value="{agent.csrf_token}" data-csrf' in page
        done = await agent.post_form(
            f"/support/inquiries/{low['id']}/assign", {"assignee": "me", "back": "/support"}
        )
        assert done.status_code == 303
        mine = (await agent.get("/support?view=mine")).text
        assert "Low one" in mine and "Urgent one" not in mine
        unassigned = (await agent.get("/support?view=unassigned")).text
        assert "Urgent one" in unassigned and "Low one" not in unassigned
        assert (await desk.inquiry(low["id"]))["assignee"] == agent.email
        refused = await agent.client.post(
            f"/support/inquiries/{urgent['id']}/assign", data={"assignee": "me"}
        )
        assert refused.status_code == 403  # no CSRF token
    assert (await desk.inquiry(urgent["id"]))["assignee"] is None


def queue_url(server: Any, query: str = "view=all") -> str:
    return f"ws://127.0.0.1:{server.port}/support/ws/queue?{query}"


@pytest.mark.parametrize("case", ["no session", "foreign"])
async def test_the_queue_socket_is_refused_at_the_handshake(
    make_portal: MakePortal,  # noqa: F811
    case: str,
) -> None:
    server, api = await make_portal()
    headers = {"Cookie": await signed_in_cookie(server)}
    origin = server.runtime.settings.base_origin
    if case == "no session":
        headers = {"Authorization": api.client.headers["Authorization"]}
    else:
        origin = "http://evil.example"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            queue_url(server), origin=origin, additional_headers=headers, open_timeout=5
        ):
            pytest.fail("the upgrade was accepted")
    assert refused.value.response.status_code == 403


async def test_the_queue_is_pushed_new_inquiries_and_breaches(
    make_portal: MakePortal,  # noqa: F811
) -> None:
    server, api = await make_portal()
    number, _ = await api.create_order()
    queue = await Watcher.open(
        queue_url(server),
        server.runtime.settings.base_origin,
        additional_headers={"Cookie": await signed_in_cookie(server)},
    )
    await eventually(lambda: bool(queue.frames))
    assert 'id="queue-list" hx-swap-oob="true"' in queue.frames[0]
    assert "No open inquiries" in queue.frames[0]
    opened = await api.client.post(
        "/api/v1/inquiries",
        json={"order_number": number, "message": "Where is it?", "subject": "Pushed one",
              "priority": "urgent"},
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    await eventually(lambda: "Pushed one" in queue.frames[-1])
    assert 'data-state="warning"' in queue.frames[-1]  # urgent: due in 30 = the warning time
    screen = await Watcher.open(
        screen_url(server, number),
        server.runtime.settings.base_origin,
        additional_headers={"Cookie": await signed_in_cookie(server)},
    )
    await eventually(
        lambda: 'data-target="first_response" data-state="pending"' in "".join(screen.frames)
    )
    # The due time passes: the watcher records the breach and the row turns red, pushed; the
    # order's screen shows the breached target too.
    api.clock.advance(minutes=31)
    await server.runtime.breach_watcher.tick()
    await eventually(lambda: 'data-state="breached"' in queue.frames[-1])
    await eventually(
        lambda: 'data-target="first_response" data-state="breached"' in screen.frames[-1]
    )
    await queue.close()
    await screen.close()
