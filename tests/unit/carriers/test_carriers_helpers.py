"""The JSON and time helpers behind the adapters, at their edges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from carriers.base import PayloadError
from carriers.jsonfields import json_type, load_json, optional_str, required_str
from carriers.registry import ADAPTERS
from carriers.timestamps import (
    parse_calendar_date,
    parse_compact,
    parse_compact_date,
    parse_epoch,
    parse_instant,
)
from tests.unit.carriers.carriers_fixtures import payload_json


def test_deeply_nested_json_is_a_payload_error_not_a_recursion_error() -> None:
    with pytest.raises(PayloadError, match="nested too deeply"):
        load_json(b"[" * 200_000 + b"]" * 200_000)


def test_json_type_names() -> None:
    assert [json_type(v) for v in (None, True, 1, 1.5, "s", [], {})] == [
        "null", "boolean", "number", "number", "string", "array", "object",
    ]  # fmt: skip
    assert json_type(object()) == "object"  # not a JSON value: its Python type name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("  ", None),
        (" a ", "a"),
        (28209, "28209"),
        (1.5, "1.5"),
        (float("nan"), None),
    ],
)
def test_optional_str(value: object, expected: str | None) -> None:
    assert optional_str(value, "f") == expected


@pytest.mark.parametrize("value", [True, [], {}])
def test_optional_str_refuses_other_types(value: object) -> None:
    with pytest.raises(PayloadError, match="f: expected a string"):
        optional_str(value, "f")


def test_required_str() -> None:
    with pytest.raises(PayloadError, match="f: is required"):
        required_str("", "f")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-02T08:15:00Z", datetime(2027, 3, 2, 8, 15, tzinfo=UTC)),
        ("2027-03-02T09:15:00+01:00", datetime(2027, 3, 2, 8, 15, tzinfo=UTC)),
        ("2027-03-02T08:15:00.250Z", datetime(2027, 3, 2, 8, 15, 0, 250000, tzinfo=UTC)),
        ("2027-03-02 08:15:00", datetime(2027, 3, 2, 8, 15, tzinfo=UTC)),
        ("2027-03-02", datetime(2027, 3, 2, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text, "t") == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2027-13-01", "x" * 65, "0001-01-01T00:00:00+01:00"]
)
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(PayloadError, match="t: "):
        parse_instant(text, "t")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-04", date(2027, 3, 4)),
        ("2027-03-04T00:00:00Z", date(2027, 3, 4)),
        # The date as written at the destination, not shifted to UTC.
        ("2027-03-04T23:30:00-05:00", date(2027, 3, 4)),
    ],
)
def test_parse_calendar_date(text: str, expected: date) -> None:
    assert parse_calendar_date(text, "d") == expected


@pytest.mark.parametrize("text", ["03/04/2027", "2027-03-04X", "2027-02-30", "2027-03-04T99:00"])
def test_parse_calendar_date_refuses(text: str) -> None:
    with pytest.raises(PayloadError, match="d: "):
        parse_calendar_date(text, "d")


def test_parse_compact() -> None:
    assert parse_compact("20270303", "091519", "c") == datetime(2027, 3, 3, 9, 15, 19, tzinfo=UTC)
    assert parse_compact("20270303", "", "c") == datetime(2027, 3, 3, tzinfo=UTC)
    assert parse_compact_date("20270303", "c") == date(2027, 3, 3)


@pytest.mark.parametrize(
    ("day", "clock"),
    [("2027", "000000"), ("20270230", "000000"), ("20270303", "250000"), ("20270303", "12")],
)
def test_parse_compact_refuses(day: str, clock: str) -> None:
    with pytest.raises(PayloadError, match="c: "):
        parse_compact(day, clock, "c")


def test_parse_epoch() -> None:
    assert parse_epoch(1803974400, "ts") == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
    for bad in (True, "1804060800", 1e20):
        with pytest.raises(PayloadError, match="ts: "):
            parse_epoch(bad, "ts")


def test_aftership_empty_checkpoints_need_ts() -> None:
    event = payload_json("aftership", "pending")
    assert isinstance(event, dict)
    del event["ts"]
    with pytest.raises(PayloadError, match=r"ts: is required when msg\.checkpoints is empty"):
        ADAPTERS["aftership"].parse(json.dumps(event).encode(), {})


def test_easypost_empty_tracker_needs_a_time() -> None:
    event = payload_json("easypost", "tracker_created")
    assert isinstance(event, dict)
    del event["result"]["updated_at"], event["created_at"]
    with pytest.raises(PayloadError, match=r"result\.updated_at: is required"):
        ADAPTERS["easypost"].parse(json.dumps(event).encode(), {})


def test_fedex_estimate_falls_back_to_date_and_times() -> None:
    result = payload_json("fedex", "delivered")
    assert isinstance(result, dict)
    result["dateAndTimes"] = [{"type": "ESTIMATED_DELIVERY", "dateTime": "2027-03-03T00:00:00"}]
    parsed = ADAPTERS["fedex"].parse(json.dumps(result).encode(), {})
    assert parsed.updates[-1].estimated_delivery == date(2027, 3, 3)


def test_generic_enum_fields_must_be_strings() -> None:
    event = payload_json("generic", "single")
    assert isinstance(event, dict)
    event["status"] = 5
    with pytest.raises(PayloadError, match=r"body\.status: expected a string, got number"):
        ADAPTERS["generic"].parse(json.dumps(event).encode(), {"webhook-id": "m"})
