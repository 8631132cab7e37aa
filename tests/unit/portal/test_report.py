"""The report's sections from aggregate rows: derived figures, order, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from portal.domain.kpis import Period
from portal.domain.report import (
    Report,
    VersionFigures,
    delay_section,
    eta_section,
    feedback_carrier_section,
    feedback_template_section,
    inquiry_template_section,
    notification_section,
    on_time_section,
    report_csv,
    section_csv,
    sla_section,
)


def _version(**overrides: object) -> VersionFigures:
    base: dict[str, object] = dict(
        kind="delivery",
        channel="email",
        locale="en",
        version=2,
        sent=5,
        orders=4,
        delivered=4,
        delivered_on_time=3,
        feedback=2,
        rating_sum=9.0,
        clicks=1,
        responses=3,
        inquiries_48h=1,
    )
    base.update(overrides)
    return VersionFigures(**base)  # type: ignore[arg-type]


def test_notifications_pair_counts_with_latencies() -> None:
    section = notification_section(
        [("shipping", "sms", 3, 1, 0), ("delivery", "email", 2, 0, 1)],
        {("shipping", "sms"): (4.04, 61.96)},
    )
    assert section.rows == (
        ("delivery", "email", 2, 0, 1, None, None),  # none sent with a time: no percentile
        ("shipping", "sms", 3, 1, 0, 4.0, 62.0),
    )


def test_on_time_rate_per_carrier() -> None:
    section = on_time_section([("ups", 3, 2), ("dhl", 4, 4), ("fedex", 0, 0)])
    assert section.records() == [
        {"carrier": "dhl", "delivered": 4, "on_time": 4, "on_time_rate": 1.0},
        {"carrier": "fedex", "delivered": 0, "on_time": 0, "on_time_rate": None},
        {"carrier": "ups", "delivered": 3, "on_time": 2, "on_time_rate": 0.6667},
    ]


def test_eta_accuracy_mean_absolute_error_and_exact_share() -> None:
    # ups: errors 0, 2, 1 -> sum 3 over 3 = 1.0 day, one of three exact
    section = eta_section([("ups", 3, 3, 1)])
    assert section.rows == (("ups", 3, 1.0, 0.3333),)


def test_delays_most_common_first() -> None:
    section = delay_section([("customs", 1), ("weather", 4), ("address", 1)])
    assert section.column("reason_code") == ["weather", "address", "customs"]


def test_feedback_response_rate_counts_feedback_or_a_click() -> None:
    # 4 delivered orders: 2 rated (4 and 5), 1 only clicked the review link -> 3 of 4 responded
    section = feedback_carrier_section([("ups", 4, 2, 9, 1, 3)])
    assert section.records() == [
        {
            "carrier": "ups",
            "delivered_orders": 4,
            "feedback": 2,
            "review_clicks": 1,
            "responses": 3,
            "response_rate": 0.75,
            "mean_rating": 4.5,
        }
    ]


def test_feedback_by_template_takes_the_delivery_notice() -> None:
    versions = [_version(), _version(kind="shipping", version=3)]
    section = feedback_template_section(versions)
    assert section.rows == (("email", "en", 2, 4, 2, 1, 3, 0.75, 4.5),)


def test_version_figures() -> None:
    version = _version()
    assert version.mean_rating == 4.5
    assert version.on_time_rate == 0.75
    assert version.inquiry_share == 0.25
    assert _version(orders=0, inquiries_48h=0).inquiry_share is None
    assert _version(feedback=0, rating_sum=None).mean_rating is None


def test_inquiries_after_notice() -> None:
    section = inquiry_template_section([_version(kind="shipping", inquiries_48h=2)])
    assert section.rows == (("shipping", "email", "en", 2, 4, 2, 0.5),)


def _report() -> Report:
    return Report(
        Period(date(2027, 3, 1), date(2027, 3, 31), "Europe/London"),
        (on_time_section([("ups", 3, 2)]), inquiry_template_section([])),
    )


def test_json_names_each_section() -> None:
    assert _report().to_json() == {
        "period": {"from": "2027-03-01", "to": "2027-03-31", "timezone": "Europe/London"},
        "on_time_by_carrier": [
            {"carrier": "ups", "delivered": 3, "on_time": 2, "on_time_rate": 0.6667}
        ],
        "inquiries_after_notice": [],
    }


def test_csv_files() -> None:
    report = _report()
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows == [
        ["section", "group", "metric", "value"],
        ["on_time_by_carrier", "carrier=ups", "delivered", "3"],
        ["on_time_by_carrier", "carrier=ups", "on_time", "2"],
        ["on_time_by_carrier", "carrier=ups", "on_time_rate", "0.6667"],
    ]
    one = section_csv(on_time_section([("ups", 0, 0)]))
    assert one == "carrier,delivered,on_time,on_time_rate\r\nups,0,0,\r\n"


def test_sla_met_share_over_decided_targets() -> None:
    # 5 opened: first response met 3, breached 1 (one still pending); p50 42.04, p90 120 min.
    section = sla_section(
        5,
        [("first_response", 3, 1), ("next_response", 0, 0), ("resolution", 1, 1)],
        first_response=(42.04, 120),
    )
    assert section.records() == [
        {
            "target": "first_response",
            "inquiries": 5,
            "met": 3,
            "breached": 1,
            "met_share": 0.75,
            "median_minutes": 42.0,
            "p90_minutes": 120.0,
        },
        {
            "target": "next_response",
            "inquiries": 5,
            "met": 0,
            "breached": 0,
            "met_share": None,
            "median_minutes": None,
            "p90_minutes": None,
        },
        {
            "target": "resolution",
            "inquiries": 5,
            "met": 1,
            "breached": 1,
            "met_share": 0.5,
            "median_minutes": None,
            "p90_minutes": None,
        },
    ]
    assert sla_section(0, [("first_response", 0, 0)], first_response=(None, None)).rows == ()
