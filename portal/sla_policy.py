"""Reading the SLA policy of ``PORTAL_SLA_POLICIES`` (a YAML or JSON file) into an SlaPolicy.

Validated at start: a bad file stops the portal with a message naming the field, e.g.
``PORTAL_SLA_POLICIES: business_hours.mon[0]: '25:00' is not a time (HH:MM, up to 24:00)``.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables
import yaml

from .domain.business_time import BusinessCalendar, OpeningHours
from .domain.inquiries import Priority, SlaTarget
from .domain.sla import DEFAULT_TARGETS, DEFAULT_WARNING_MINUTES, SlaPolicy, Targets

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_KEYS = {"timezone", "business_hours", "holidays", "targets", "warning_minutes", "name"}


class PolicyError(ValueError):
    """The policy file is wrong; the message names the field."""


def load_policy_file(path: Path) -> SlaPolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from None
    return parse_policy(text, name=path.stem)


def parse_policy(text: str, *, name: str = "custom") -> SlaPolicy:
    """Parse YAML or JSON (JSON is YAML, but its errors read better from the JSON parser)."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PolicyError(f"not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError("the file must hold one policy (a mapping)")
    return policy_from_mapping(data, name=name)


def policy_from_mapping(data: dict[str, Any], *, name: str = "custom") -> SlaPolicy:
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise PolicyError(f"{unknown[0]}: unknown field (expected one of {sorted(_KEYS)})")
    timezone = data.get("timezone", "UTC")
    if not isinstance(timezone, str):
        raise PolicyError("timezone: must be a time zone name such as Europe/London")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"timezone: unknown time zone {timezone!r}") from None
    countries, dates = _holidays(data.get("holidays") or {})
    calendar = BusinessCalendar(
        timezone=timezone,
        hours=_business_hours(data.get("business_hours")),
        countries=countries,
        dates=dates,
    )
    warning = data.get("warning_minutes", DEFAULT_WARNING_MINUTES)
    if not isinstance(warning, int) or isinstance(warning, bool) or warning < 0:
        raise PolicyError("warning_minutes: must be a whole number of minutes, 0 or more")
    return SlaPolicy(
        calendar=calendar,
        targets=_targets(data.get("targets") or {}),
        warning_minutes=warning,
        name=str(data.get("name") or name),
    )


def _business_hours(raw: Any) -> dict[int, tuple[OpeningHours, ...]]:
    if raw is None:
        from .domain.sla import DEFAULT_CALENDAR

        return dict(DEFAULT_CALENDAR.hours)
    if not isinstance(raw, dict):
        raise PolicyError("business_hours: must map weekdays (mon..sun) to lists of [start, end]")
    hours: dict[int, tuple[OpeningHours, ...]] = {}
    for day, spans in raw.items():
        if day not in WEEKDAYS:
            raise PolicyError(f"business_hours.{day}: not a weekday (use {', '.join(WEEKDAYS)})")
        hours[WEEKDAYS.index(day)] = _day_spans(f"business_hours.{day}", spans or [])
    if not any(hours.values()):
        raise PolicyError("business_hours: every day is closed; open at least one")
    return hours


def _day_spans(where: str, spans: Any) -> tuple[OpeningHours, ...]:
    if not isinstance(spans, list):
        raise PolicyError(f"{where}: must be a list of [start, end] pairs")
    parsed: list[OpeningHours] = []
    for i, span in enumerate(spans):
        if not (isinstance(span, list) and len(span) == 2):
            raise PolicyError(f'{where}[{i}]: must be a pair ["HH:MM", "HH:MM"]')
        start, end = (_minute(f"{where}[{i}]", value) for value in span)
        if start >= end:
            raise PolicyError(f"{where}[{i}]: ends before it starts")
        parsed.append(OpeningHours(start, end))
    parsed.sort(key=lambda h: h.start)
    for a, b in itertools.pairwise(parsed):
        if b.start < a.end:
            raise PolicyError(f"{where}: opening hours overlap")
    return tuple(parsed)


def _minute(where: str, value: Any) -> int:
    if isinstance(value, int):  # YAML reads an unquoted 9:00 as the number 540
        raise PolicyError(f'{where}: write times in quotes, e.g. "09:00"')
    match = _TIME.match(str(value)) if isinstance(value, str) else None
    minute = int(match[1]) * 60 + int(match[2]) if match else -1
    if not 0 <= minute <= 24 * 60:
        raise PolicyError(f"{where}: {value!r} is not a time (HH:MM, up to 24:00)")
    return minute


def _holidays(raw: Any) -> tuple[tuple[str, ...], frozenset[date]]:
    if not isinstance(raw, dict):
        raise PolicyError("holidays: must be a mapping with countries and dates")
    extra = sorted(set(map(str, raw)) - {"countries", "dates"})
    if extra:
        raise PolicyError(f"holidays.{extra[0]}: unknown field (expected countries, dates)")
    countries = raw.get("countries") or []
    if not isinstance(countries, list):
        raise PolicyError("holidays.countries: must be a list of country codes such as GB")
    for i, code in enumerate(countries):
        country, _, subdiv = str(code).upper().partition("-")
        try:
            holiday_tables.country_holidays(country, subdiv=subdiv or None)
        except NotImplementedError:
            raise PolicyError(f"holidays.countries[{i}]: unknown country {code!r}") from None
    dates = raw.get("dates") or []
    if not isinstance(dates, list):
        raise PolicyError("holidays.dates: must be a list of ISO dates")
    parsed: set[date] = set()
    for i, value in enumerate(dates):
        try:
            parsed.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise PolicyError(f"holidays.dates[{i}]: {value!r} is not an ISO date") from None
    return tuple(str(c).upper() for c in countries), frozenset(parsed)


def _targets(raw: Any) -> dict[Priority, Targets]:
    if not isinstance(raw, dict):
        raise PolicyError("targets: must map priorities to their targets in minutes")
    targets = dict(DEFAULT_TARGETS)
    for key, values in raw.items():
        try:
            priority = Priority(key)
        except ValueError:
            raise PolicyError(
                f"targets.{key}: not a priority (use {', '.join(p.value for p in Priority)})"
            ) from None
        if not isinstance(values, dict):
            raise PolicyError(f"targets.{key}: must map targets to minutes")
        unknown = sorted(set(map(str, values)) - {t.value for t in SlaTarget})
        if unknown:
            raise PolicyError(f"targets.{key}.{unknown[0]}: not a target")
        base = DEFAULT_TARGETS[priority]
        picked = {t.value: values.get(t.value, base.of(t)) for t in SlaTarget}
        for target, value in picked.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PolicyError(f"targets.{key}.{target}: must be whole minutes, 0 or more")
        targets[priority] = Targets(**picked)
    return targets
