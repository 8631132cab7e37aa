"""Every inquiry writer rings the order's screen, not only the console's forms: an agent's open
order screen shows a question, a reply or a state change made through the API at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from portal.services.screen.bell import SCREEN_KIND
from tests.integration.inquiries.conftest import Desk


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
