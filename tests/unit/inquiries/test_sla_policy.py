"""PORTAL_SLA_POLICIES: YAML or JSON read into a policy; a bad field is named at start."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from portal.domain.inquiries import Priority, SlaTarget
from portal.domain.sla import DEFAULT_POLICY, DEFAULT_TARGETS
from portal.settings import SettingsError, load_settings
from portal.sla_policy import PolicyError, parse_policy

DESIGN_EXAMPLE = """
timezone: Europe/London
business_hours:            # mon..sun; a day left out or [] is closed; "24:00" ends a day
  mon: [["09:00", "17:30"]]
  sat: []
holidays: {countries: ["GB"], dates: ["2026-12-24"]}
targets:                   # business minutes, per priority
  normal: {first_response: 240, next_response: 480, resolution: 2880}
  high:   {first_response: 60,  next_response: 120, resolution: 960}
warning_minutes: 30
"""


def test_the_design_example_parses() -> None:
    policy = parse_policy(DESIGN_EXAMPLE)
    assert policy.calendar.timezone == "Europe/London"
    assert [(h.start, h.end) for h in policy.calendar.hours[0]] == [(540, 1050)]
    assert policy.calendar.hours[5] == ()
    assert 1 not in policy.calendar.hours  # tuesday left out: closed
    assert policy.calendar.is_holiday(date(2026, 12, 24))
    assert policy.calendar.is_holiday(date(2026, 12, 25))  # from the GB table
    assert policy.minutes_for(Priority.HIGH, SlaTarget.FIRST_RESPONSE) == 60
    # priorities left out take the built-in defaults
    assert policy.targets[Priority.URGENT] == DEFAULT_TARGETS[Priority.URGENT]
    assert policy.warning_minutes == 30


def test_json_is_read_too_and_24_00_ends_a_day() -> None:
    text = json.dumps(
        {"timezone": "UTC", "business_hours": {"sun": [["18:00", "24:00"]]}, "name": "night"}
    )
    policy = parse_policy(text)
    assert [(h.start, h.end) for h in policy.calendar.hours[6]] == [(1080, 1440)]
    assert policy.name == "night"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("timezone: Mars/Olympus", "timezone"),
        ("business_hours: {mon: [['09:00', '25:00']]}", "business_hours.mon[0]"),
        (
            "business_hours: {mon: [[9:00, '17:00']]}",
            "business_hours.mon[0]: write times in quotes",
        ),
        ("business_hours: {funday: [['09:00', '17:00']]}", "business_hours.funday"),
        ("business_hours: {mon: [['12:00', '10:00']]}", "business_hours.mon[0]"),
        ("business_hours: {mon: [['09:00', '12:00'], ['11:00', '13:00']]}", "overlap"),
        ("business_hours: {mon: []}", "every day is closed"),
        ("holidays: {countries: ['XX']}", "holidays.countries[0]"),
        ("holidays: {dates: ['2026-13-01']}", "holidays.dates[0]"),
        ("holidays: {regions: []}", "holidays.regions"),
        ("targets: {critical: {first_response: 5}}", "targets.critical"),
        ("targets: {high: {first_response: -5}}", "targets.high.first_response"),
        ("targets: {high: {first_reply: 5}}", "targets.high.first_reply"),
        ("warning_minutes: soon", "warning_minutes"),
        ("timezones: UTC", "timezones"),
        ("[1, 2]", "mapping"),
        ("{not json", "not valid"),
    ],
)
def test_bad_fields_are_named(text: str, names: str) -> None:
    with pytest.raises(PolicyError, match=names.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(text)


def test_settings_read_the_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(DESIGN_EXAMPLE)
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_SLA_POLICIES": str(path)}
    assert load_settings(env).sla_policy.calendar.timezone == "Europe/London"
    assert load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path)}).sla_policy is DEFAULT_POLICY


def test_a_bad_policy_stops_the_start_naming_the_variable_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sla.json"
    path.write_text('{"warning_minutes": -1}')
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_SLA_POLICIES": str(path)}
    with pytest.raises(SettingsError, match="PORTAL_SLA_POLICIES: warning_minutes"):
        load_settings(env)
    env["PORTAL_SLA_POLICIES"] = str(tmp_path / "missing.yaml")
    with pytest.raises(SettingsError, match="PORTAL_SLA_POLICIES: cannot read"):
        load_settings(env)


@pytest.mark.parametrize("value", ["support+x@shop.example", "not-an-address"])
def test_inbound_address_must_be_plain(tmp_path: Path, value: str) -> None:
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_INBOUND_ADDRESS": value}
    with pytest.raises(SettingsError, match="PORTAL_INBOUND_ADDRESS"):
        load_settings(env)
