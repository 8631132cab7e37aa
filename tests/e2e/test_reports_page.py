"""The reports page in Chromium: charts drawn with data, no console error, the CSV downloads."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.axe import assert_no_serious_axe_violations
from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in


def _delivered_order(server: PortalProcess) -> str:
    number = "E2ER" + str(int(time.time() * 1000) % 100000)
    server.create_order(number)
    tracking = "JD0146" + number
    today = datetime.now(UTC).date()
    shipped = server.api(
        "POST",
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "dhl", "tracking_number": tracking, "estimated_delivery": str(today)},
    )
    assert shipped.status_code == 201, shipped.text
    server.carrier_event(tracking, "in_transit", "Departed hub")
    server.carrier_event(tracking, "delivered", "Left at the door")
    return number


def test_charts_are_drawn_and_the_csv_downloads(page: Any, portal_server: PortalProcess) -> None:
    _delivered_order(portal_server)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    email = create_staff_user(portal_server, "agent")
    sign_in(page, portal_server, email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Reports").click()
    page.wait_for_url("**/support/reports")

    on_time = page.locator("#on_time_by_carrier svg.chart").first
    assert on_time.is_visible()
    assert on_time.locator("rect.chart-bar").first.get_attribute("data-value") == "100.0%"
    table = page.get_by_role("table", name="On-time delivery by carrier")
    assert table.get_by_role("rowheader", name="dhl").is_visible()
    assert page.locator("#eta_accuracy_by_carrier svg.chart rect.chart-bar").count() >= 2
    # The change-to-send chart has bars once the in-process dispatcher has sent the notices.
    deadline = time.monotonic() + 20
    while page.locator("#notifications svg.chart rect[data-value]").count() == 0:
        assert time.monotonic() < deadline, "no notification figures appeared"
        time.sleep(0.5)
        page.reload()

    assert_no_serious_axe_violations(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Every figure as CSV").click()
    download = info.value
    path = download.path()
    assert download.suggested_filename.startswith("report_")
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("section,group,metric,value")
    assert "on_time_by_carrier,carrier=dhl,on_time_rate,1.0" in text

    # Another period: yesterday only, before anything happened, shows no chart.
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    page.get_by_label("From", exact=True).fill(yesterday)
    page.get_by_label("To", exact=True).fill(yesterday)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/support/reports?from={yesterday}&to={yesterday}")
    assert page.locator("svg.chart").count() == 0
    assert errors == [], failed
