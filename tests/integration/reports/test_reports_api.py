"""GET /api/v1/reports on a seeded period: the figures worked out by hand, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from portal.domain.kpis import Period
from portal.services.reports import build_report
from tests.integration.conftest import Portal

from .seed import EXPECTED, PERIOD, TODAY, Seeder, seed_period

QUERY = f"/api/v1/reports?from={PERIOD[0].isoformat()}&to={PERIOD[1].isoformat()}"


async def _seeded(portal: Portal) -> None:
    async with portal.runtime.db.write() as session:
        await seed_period(session)


async def test_the_report_matches_the_hand_figures(portal: Portal) -> None:
    await _seeded(portal)
    answer = await portal.get(QUERY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {
        "from": PERIOD[0].isoformat(),
        "to": PERIOD[1].isoformat(),
        "timezone": "UTC",
    }
    for name, rows in EXPECTED.items():
        assert body[name] == rows, name


async def test_a_period_before_the_rows_is_empty(portal: Portal) -> None:
    await _seeded(portal)
    old = TODAY - timedelta(days=100)
    answer = await portal.get(f"/api/v1/reports?from={old}&to={old + timedelta(days=5)}")
    body = answer.json()
    assert body["notifications"] == [] and body["on_time_by_carrier"] == []
    assert body["feedback_by_carrier"] == [] and body["delays_by_reason"] == []


async def test_csv_in_long_form_and_per_section(portal: Portal) -> None:
    await _seeded(portal)
    answer = await portal.get(QUERY + "&format=csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["section", "group", "metric", "value"]
    assert ["on_time_by_carrier", "carrier=ups", "on_time_rate", "0.6667"] in rows
    assert ["notifications", "kind=delivery; channel=email", "p95_seconds", "40.0"] in rows
    assert [
        "feedback_by_template",
        "channel=email; locale=es; version=2",
        "mean_rating",
        "",
    ] in rows

    answer = await portal.get(QUERY + "&format=csv&section=eta_accuracy_by_carrier")
    assert answer.status_code == 200
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(table[0]) == ["carrier", "delivered", "mae_days", "exact_share"]
    assert table == [
        {"carrier": "dhl", "delivered": "1", "mae_days": "1.0", "exact_share": "0.0"},
        {"carrier": "ups", "delivered": "2", "mae_days": "1.0", "exact_share": "0.5"},
    ]
    missing = await portal.get(QUERY + "&format=csv&section=nope")
    assert missing.status_code == 404


async def test_bad_periods_and_keys_are_refused(portal: Portal) -> None:
    assert (await portal.client.get(QUERY)).status_code == 401
    for query in ("from=2027-13-01", f"from={TODAY}&to={TODAY - timedelta(days=1)}", "format=x"):
        answer = await portal.get(f"/api/v1/reports?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["error"]["code"] == "validation_failed"
    # Without dates: the last 30 days up to today.
    body = (await portal.get("/api/v1/reports")).json()
    assert body["period"]["to"] == TODAY.isoformat()
    assert body["period"]["from"] == (TODAY - timedelta(days=29)).isoformat()


async def test_local_dates_follow_the_shop_time_zone(portal: Portal) -> None:
    # Delivered at 03:00 UTC on the day after the promise: 22:00 the evening before in New
    # York, so on time there and late in UTC; and inside a New York period ending that evening.
    promised = TODAY - timedelta(days=3)
    delivered = datetime.combine(promised + timedelta(days=1), datetime.min.time(), UTC)
    delivered += timedelta(hours=3)
    async with portal.runtime.db.write() as session:
        s = Seeder(session)
        order = await s.order(promised=promised, delivered=delivered)
        await s.shipment(order, "fedex", etas=(promised,))
    async with portal.runtime.db.read() as session:
        new_york = await build_report(session, Period(promised, promised, "America/New_York"))
        utc = await build_report(session, Period(promised, promised, "UTC"))
        utc_next = await build_report(
            session, Period(promised + timedelta(days=1), promised + timedelta(days=1), "UTC")
        )
    assert new_york.section("on_time_by_carrier").rows == (("fedex", 1, 1, 1.0),)
    assert new_york.section("eta_accuracy_by_carrier").rows == (("fedex", 1, 0.0, 1.0),)
    assert utc.section("on_time_by_carrier").rows == ()
    assert utc_next.section("on_time_by_carrier").rows == (("fedex", 1, 0, 0.0),)
    assert utc_next.section("eta_accuracy_by_carrier").rows == (("fedex", 1, 1.0, 0.0),)


async def test_the_openapi_document_describes_the_report(portal: Portal) -> None:
    doc = (await portal.client.get("/api/v1/openapi.json")).json()
    operation = doc["paths"]["/api/v1/reports"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "format", "section"}
    schema = doc["components"]["schemas"]["Report"]
    body = (await portal.get("/api/v1/reports")).json()
    assert set(schema["required"]) == set(body)
