"""The SQLite function that gives a stored UTC timestamp's local date."""

from __future__ import annotations

from portal.services.sql_time import sqlite_local_date


def test_local_date_of_stored_timestamps() -> None:
    assert sqlite_local_date("2027-03-11 03:00:00.000000", "UTC") == "2027-03-11"
    assert sqlite_local_date("2027-03-11 03:00:00", "America/New_York") == "2027-03-10"
    assert sqlite_local_date("2027-07-04 23:30:00", "Europe/London") == "2027-07-05"
    assert sqlite_local_date("2027-07-04T23:30:00+00:00", "Europe/London") == "2027-07-05"
    assert sqlite_local_date(None, "UTC") is None
