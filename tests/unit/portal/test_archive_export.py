"""portal.services.archive_export: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.services.archive_export import parse_since


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-03-01", datetime(2027, 3, 1, tzinfo=UTC)),
        ("2027-03-01T10:30:00", datetime(2027, 3, 1, 10, 30, tzinfo=UTC)),
        ("2027-03-01T10:30:00Z", datetime(2027, 3, 1, 10, 30, tzinfo=UTC)),
        ("2027-03-01T12:30:00+02:00", datetime(2027, 3, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(value: str, expected: datetime) -> None:
    assert parse_since(value) == expected


@pytest.mark.parametrize("value", ["soon", "2027-13-01", "", "01/03/2027"])
def test_parse_since_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_since(value)
