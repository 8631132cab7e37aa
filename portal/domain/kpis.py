"""KPI definitions for the review reports: pure, values in and figures out.

The database computes every figure with aggregate statements (portal.services.reports_sql);
this module fixes what each figure means, so the SQL and the unit tests share one definition:

- a period is two local dates, both inclusive, in the shop's time zone;
- a percentile is the nearest-rank value: the smallest value with at least p% of the values
  at or below it (no interpolation, so it is always a value that occurred);
- on time: delivered on or before the promised date (local dates in the shop's zone);
- ETA error: days between a shipment's first estimate and the date it was delivered;
- a response to a delivery notice: feedback given or the review link followed;
- an inquiry follows a notice when it was opened within 48 hours after the notice was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ValidationFailed

DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 731
INQUIRY_WINDOW = timedelta(hours=48)
SHARE_DIGITS = 4
MEAN_DIGITS = 2


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates `start` to `end`, both inclusive, in time zone `timezone`."""

    start: date
    end: date
    timezone: str = "UTC"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: [start of `start`, start of the day after `end`)."""
        zone = ZoneInfo(self.timezone)
        first = datetime.combine(self.start, time(), zone)
        after = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return first.astimezone(UTC), after.astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(
    from_raw: str | None, to_raw: str | None, *, today: date, timezone: str = "UTC"
) -> Period:
    """The period a request asks for; without dates, the 30 days up to `today`."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown shop time zone {timezone!r}") from None
    end = _iso_date("to", to_raw) or today
    start = _iso_date("from", from_raw) or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise ValidationFailed(
            "'from' must not be after 'to'", details=[{"loc": ["from"], "msg": "after 'to'"}]
        )
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_PERIOD_DAYS} days")
    return Period(start, end, timezone)


def _iso_date(name: str, raw: str | None) -> date | None:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' must be an ISO date (YYYY-MM-DD)",
            details=[{"loc": [name], "msg": "not an ISO date"}],
        ) from None


def nearest_rank(percent: int, count: int) -> int:
    """The 1-based rank of the `percent`th percentile among `count` sorted values.

    ceil(percent * count / 100), written with integers so SQL can compute the same:
    `(percent * count + 99) / 100` in integer division.
    """
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    if count <= 0:
        raise ValueError("no values")
    return (percent * count + 99) // 100


def percentile(values: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile of `values`, or None when there are none."""
    if not values:
        return None
    return sorted(values)[nearest_rank(percent, len(values)) - 1]


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places; None (not zero) when there is nothing to divide."""
    if whole <= 0:
        return None
    return round(part / whole, SHARE_DIGITS)


def mean(total: float | None, count: int) -> float | None:
    """total / count rounded to 2 places; None when count is zero."""
    if count <= 0 or total is None:
        return None
    return round(total / count, MEAN_DIGITS)


def is_on_time(delivered_on: date, promised: date) -> bool:
    """Delivered on or before the promised date."""
    return delivered_on <= promised


def eta_error_days(first_estimate: date, delivered_on: date) -> int:
    """How many days the first estimate was off, early or late."""
    return abs((delivered_on - first_estimate).days)


def follows_notice(sent_at: datetime, opened_at: datetime) -> bool:
    """Whether an inquiry opened at `opened_at` followed a notice sent at `sent_at` (48 h)."""
    return timedelta(0) <= opened_at - sent_at <= INQUIRY_WINDOW


def local_day(instant: datetime, timezone: str) -> date:
    """The shop's local date of a UTC instant."""
    return instant.astimezone(ZoneInfo(timezone)).date()
