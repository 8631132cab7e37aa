"""`/support/reports`: agents read the charts, tables and CSV files of a seeded period."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from tests.integration.conftest import Portal
from tests.integration.staff_helpers import anonymous_client

from .seed import PERIOD, seed_period

PAGE = f"/support/reports?from={PERIOD[0].isoformat()}&to={PERIOD[1].isoformat()}"


async def test_an_agent_reads_charts_with_their_tables(portal: Portal, agent: Any) -> None:
    async with portal.runtime.db.write() as session:
        await seed_period(session)
    page = await agent.get(PAGE)
    assert page.status_code == 200, page.text
    html = page.text
    svgs = re.findall(r"<svg class=\"chart\".*?</svg>", html, flags=re.S)
    assert len(svgs) >= 8
    # The on-time chart draws ups at 66.7% and dhl at 100.0%, and its table says the same.
    on_time = next(s for s in svgs if "On-time delivery by carrier: on-time rate" in s)
    assert 'data-value="66.7%"' in on_time and 'data-value="100.0%"' in on_time
    assert re.search(
        r'<th scope="row">ups</th><td class="num">3</td><td class="num">2</td>'
        r'<td class="num">66.7%</td>',
        html,
    )
    # A bar's length follows its value: 100% fills the bar area, 66.7% two thirds of it.
    widths = sorted(float(w) for w in re.findall(r'width="([\d.]+)" height="16"', on_time))
    assert widths == [240.0, 360.0]
    assert "SLA: met share per target" in html
    assert 'href="/support/reports?from=' in html and "section=delays_by_reason" in html


async def test_csv_downloads_under_the_session(portal: Portal, agent: Any) -> None:
    async with portal.runtime.db.write() as session:
        await seed_period(session)
    answer = await agent.get(PAGE + "&format=csv&section=delays_by_reason")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(answer.text))) == [
        ["reason_code", "delays"],
        ["weather", "2"],
        ["customs", "1"],
    ]
    full = await agent.get(PAGE + "&format=csv")
    assert full.text.startswith("section,group,metric,value")


async def test_an_empty_period_and_a_bad_date(agent: Any) -> None:
    empty = await agent.get("/support/reports?from=2001-01-01&to=2001-01-31")
    assert empty.status_code == 200
    assert "Nothing in this period." in empty.text and "<svg" not in empty.text
    bad = await agent.get("/support/reports?from=nope")
    assert bad.status_code == 422


async def test_the_console_needs_a_session(portal: Portal) -> None:
    async with anonymous_client(portal) as client:
        answer = await client.get(PAGE)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/support/login")
        csv_answer = await client.get(PAGE + "&format=csv")
        assert csv_answer.status_code == 303
