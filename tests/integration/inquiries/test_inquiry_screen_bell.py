"""Every inquiry writer rings the order's screen, not only the console's forms: an agent's open
order screen shows a question, a reply or a state change made through the API at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from portal.services.screen.bell import SCREEN_KIND
from tests.integration.inquiries.conftest import Desk
from tests.integration.staff_helpers import staff_client


async def _ring_of(
    rung: list[tuple[str, str]], number: str, act: Callable[[], Awaitable[Any]]
) -> bool:
    rung.clear()
    await act()
    return (number, SCREEN_KIND) in rung


async def test_api_questions_replies_and_state_changes_ring_the_order_screen(
    desk: Desk, rung: list[tuple[str, str]]
) -> None:
    number = (await desk.create_order())["order_number"]
    opened: dict[str, Any] = {}

    async def ask() -> None:
        opened.update(await desk.ask(number))

    assert await _ring_of(rung, number, ask)
    inquiry = f"/api/v1/inquiries/{opened['id']}"
    assert await _ring_of(rung, number, lambda: desk.reply(opened["id"], via="phone"))
    assert await _ring_of(
        rung, number, lambda: desk.post(f"{inquiry}/state", {"state": "waiting_on_customer"})
    )
    assert await _ring_of(
        rung,
        number,
        lambda: desk.post(
            f"{inquiry}/messages", {"direction": "inbound", "body": "Any news?", "channel": "email"}
        ),
    )


async def test_assigning_rings_the_order_screen_which_shows_the_assignee(
    desk: Desk, rung: list[tuple[str, str]]
) -> None:
    number = (await desk.create_order())["order_number"]
    opened = await desk.ask(number)
    async with staff_client(desk.portal, role="agent") as agent:
        take = f"/support/inquiries/{opened['id']}/assign"
        assert await _ring_of(rung, number, lambda: agent.post_form(take, {"assignee": "me"}))
        screen = (await agent.get(f"/support/orders/{number}")).text
        assert f"Assigned to {agent.email}" in screen
        assert await _ring_of(rung, number, lambda: agent.post_form(take, {"assignee": ""}))
        assert "Nobody has it yet" in (await agent.get(f"/support/orders/{number}")).text


async def test_a_priority_raised_after_an_order_change_rings_the_screen_after_it_committed(
    desk: Desk, rung: list[tuple[str, str]]
) -> None:
    """The raise commits after the delay's own announcement: without a bell of its own the
    open screen would keep showing the old priority."""
    number = (await desk.create_order())["order_number"]
    opened = await desk.ask(number)
    rung.clear()
    await desk.post(
        f"/api/v1/orders/{number}/delays", {"reason_code": "weather", "message": "Snow"}
    )
    assert (await desk.inquiry(opened["id"]))["priority"] == "high"
    assert rung[0] == (number, "delay")
    assert rung[-1] == (number, SCREEN_KIND)


async def test_assigning_through_the_api_rings_the_order_screen(
    desk: Desk, rung: list[tuple[str, str]]
) -> None:
    number = (await desk.create_order())["order_number"]
    opened = await desk.ask(number)
    path = f"/api/v1/inquiries/{opened['id']}/assignee"
    async with staff_client(desk.portal, role="agent") as agent:
        email = agent.email
    assigned: dict[str, Any] = {}

    async def take() -> None:
        assigned.update(await desk.post(path, {"assignee": email.upper()}))

    assert await _ring_of(rung, number, take)
    assert assigned["assignee"] == email
    assert await _ring_of(rung, number, lambda: desk.post(path, {"assignee": None}))
    assert (await desk.inquiry(opened["id"]))["assignee"] is None
    unknown = await desk.portal.post(path, {"assignee": "nobody@example.com"})
    assert unknown.status_code == 422, unknown.text
    assert (await desk.inquiry(opened["id"]))["assignee"] is None
