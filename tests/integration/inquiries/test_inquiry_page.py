"""The tracking page's question form on SQLite and PostgreSQL: opens an inquiry with its due
times, shows it with "we will answer by", the answer arrives in the live region; refusals."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.models_inquiries import Inquiry
from portal.web.live import OrderFeed
from portal.web.presenters import local_time
from tests.integration.inquiries.conftest import Desk, iso

_ASK_CSRF = re.compile(r'class="ask-form form".*?name="csrf_token" value="([^"]+)"', re.S)


async def tracking_path(desk: Desk) -> tuple[str, dict]:  # type: ignore[type-arg]
    order = await desk.create_order()
    return urlsplit(order["tracking_url"]).path, order


async def ask_csrf(desk: Desk, path: str) -> str:
    page = await desk.client.get(path)
    found = _ASK_CSRF.search(page.text)
    assert found is not None, "no question form on the page"
    return found.group(1)


async def count_inquiries(desk: Desk) -> int:
    async with desk.portal.runtime.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Inquiry))).scalar_one())


async def test_a_page_question_opens_an_inquiry_and_the_page_says_when_we_answer(
    desk: Desk,
) -> None:
    path, order = await tracking_path(desk)
    csrf = await ask_csrf(desk, path)
    answer = await desk.client.post(
        path + "/inquiries",
        data={"message": "Can you leave it with a neighbour?", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == path + "?asked=1"
    listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
    assert len(listed) == 1
    inquiry = listed[0]
    assert (inquiry["order_number"], inquiry["channel"]) == (order["order_number"], "web")
    due = desk.later(240)
    assert inquiry["targets"]["first_response"]["due_at"] == iso(due)
    page = (await desk.client.get(path + "?asked=1")).text
    assert "Can you leave it with a neighbour?" in page
    assert "We will answer by" in page
    zone = desk.zones[order["order_number"]]
    assert local_time(due, zone) in page
    assert "we have your question" in page

    # A follow-up joins the open conversation.
    await desk.client.post(
        path + "/inquiries", data={"message": "Or at no. 5?", "csrf_token": csrf}
    )
    assert await count_inquiries(desk) == 1
    detail = await desk.inquiry(inquiry["id"])
    assert [m["body"] for m in detail["messages"]][-1] == "Or at no. 5?"


async def test_the_answer_reaches_the_live_region(desk: Desk) -> None:
    path, order = await tracking_path(desk)
    csrf = await ask_csrf(desk, path)
    await desk.client.post(path + "/inquiries", data={"message": "When?", "csrf_token": csrf})
    inquiry = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"][0]
    runtime = desk.portal.runtime
    feed = OrderFeed(runtime.settings, runtime.db, runtime.renderer)
    before = await feed.snapshot(order["order_number"])
    await desk.reply(inquiry["id"], "Tomorrow before noon.")
    frames = await feed.increments(order["order_number"], before.seq, None)
    html = b"".join(f.data for f in frames).decode()
    assert "Tomorrow before noon." in html
    assert 'id="inquiries" hx-swap-oob="true"' in html
    assert "Our support team answered" in html  # the timeline entry


async def test_refusals_change_nothing(desk: Desk) -> None:
    path, _ = await tracking_path(desk)
    csrf = await ask_csrf(desk, path)
    no_token = await desk.client.post(path + "/inquiries", data={"message": "Hi"})
    assert no_token.status_code == 403
    cross = await desk.client.post(
        path + "/inquiries",
        data={"message": "Hi", "csrf_token": csrf},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    empty = await desk.client.post(path + "/inquiries", data={"message": "  ", "csrf_token": csrf})
    assert empty.status_code == 422
    assert "Write your question first." in empty.text
    unknown = await desk.client.post(
        "/t/not-a-real-token/inquiries", data={"message": "Hi", "csrf_token": csrf}
    )
    assert unknown.status_code == 404
    assert await count_inquiries(desk) == 0


async def test_questions_are_rate_limited_per_link(desk: Desk) -> None:
    path, _ = await tracking_path(desk)
    csrf = await ask_csrf(desk, path)
    codes = [
        (
            await desk.client.post(
                path + "/inquiries", data={"message": f"q{i}", "csrf_token": csrf}
            )
        ).status_code
        for i in range(6)
    ]
    assert codes == [303] * 5 + [429]
    other, _ = await tracking_path(desk)  # another link is not held back
    answer = await desk.client.post(
        other + "/inquiries", data={"message": "Hi", "csrf_token": await ask_csrf(desk, other)}
    )
    assert answer.status_code == 303
