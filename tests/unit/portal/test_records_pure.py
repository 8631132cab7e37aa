"""Pure parts of the records features: token redaction, receipt bodies, dates, the interval."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.security import hash_token
from portal.services.archive import receipt_json, redact_tokens
from portal.services.archive_export import parse_since
from portal.services.webhook_receipts import stored_body
from portal.settings import SettingsError, load_settings

TOKEN = "Vx3k-9_QzLw2bN8cR5tYpA1sDfGhJkLm"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Track it: https://s.example/t/{TOKEN}", "Track it: https://s.example/t/<link 42>"),
        (
            f"/t/{TOKEN}/unsubscribe and /t/{TOKEN}#feedback",
            "/t/<link 42>/unsubscribe and /t/<link 42>#feedback",
        ),
        ("/t/AAAAAAAAAAAAAAAAAAAAAAAA", "/t/<link unknown>"),
        ("no link here, /t/ alone, /t/short", "no link here, /t/ alone, /t/short"),
        ("", ""),
    ],
)
def test_redact_tokens(text: str, expected: str) -> None:
    assert redact_tokens(text, {hash_token(TOKEN): 42}) == expected


def _receipt(body: bytes) -> dict[str, object]:
    text, exact = stored_body(body)
    return {
        "id": 1,
        "carrier": "generic",
        "dedupe_key": "k",
        "outcome": "dead_letter",
        "body": text,
        "body_base64": exact,
        "headers": '{"webhook-id": "msg_1"}',
        "error": None,
        "tracking_numbers": ",A1,B2,",
        "received_at": datetime(2027, 3, 1, 8, 15, tzinfo=UTC),
        "applied_at": None,
    }


def test_a_utf8_body_is_kept_as_text() -> None:
    out = receipt_json(_receipt('{"m": "Café"}'.encode()))
    assert out["raw_body"] == '{"m": "Café"}' and "raw_body_base64" not in out
    assert out["headers"] == {"webhook-id": "msg_1"}
    assert out["tracking_numbers"] == ["A1", "B2"]
    assert out["received_at"] == "2027-03-01T08:15:00Z"


def test_a_body_that_is_not_utf8_is_kept_exactly_in_base64() -> None:
    raw = b'{"m": "Caf\xe9"}'
    out = receipt_json(_receipt(raw))
    assert "raw_body" not in out
    assert base64.b64decode(str(out["raw_body_base64"])) == raw


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


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 3600.0), ("60", 60.0), ("0", 0.0), ("0.5", 0.5)]
)
def test_audit_interval(tmp_path: Path, value: str | None, seconds: float) -> None:
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path)}
    if value is not None:
        env["PORTAL_AUDIT_INTERVAL"] = value
    assert load_settings(env).audit_interval == seconds


@pytest.mark.parametrize("value", ["-1", "hourly", "nan", "inf"])
def test_audit_interval_refuses(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_INTERVAL"):
        load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_AUDIT_INTERVAL": value})


def test_reconcile_sorts_findings_into_new_seen_again_and_resolved() -> None:
    from portal.services.audit_findings import finding_key, reconcile

    still = {"order_number": "A1", "problem": "missing shipping by email notice (k1)"}
    fixed_key = finding_key("A2", "delay by sms is dead: bounced")
    new = {"order_number": "A3", "problem": "delivery by email overdue since 2027-03-01T10:00"}
    changes = reconcile({finding_key(**still): 7, fixed_key: 9}, [still, new, dict(new)])
    assert changes.seen_again == [7]
    assert changes.resolved == [9]
    assert changes.new == [{**new, "key": finding_key(**new)}]  # the repeat is one finding


def test_finding_keys_tell_orders_and_problems_apart() -> None:
    from portal.services.audit_findings import finding_key

    keys = {finding_key("A1", "p"), finding_key("A1", "q"), finding_key("A2", "p")}
    assert len(keys) == 3 and finding_key("A1", "p") == finding_key("A1", "p")


@pytest.mark.parametrize(
    ("state", "offered", "chosen", "handled", "refusal"),
    [
        ("open", ["pickup_point", "cancel"], "pickup_point", False, None),
        ("open", ["pickup_point", "cancel"], "refund", False, "not_offered"),
        ("open", [], "pickup_point", False, "not_offered"),
        ("open", ["cancel"], "", False, "not_offered"),
        ("resolved", ["cancel"], "cancel", False, "delay_closed"),
        ("open", ["cancel"], "cancel", True, "handled"),
        ("resolved", ["cancel"], "refund", True, "not_offered"),  # a bad choice is 400 first
    ],
)
def test_check_choice(
    state: str, offered: list[str], chosen: str, handled: bool, refusal: str | None
) -> None:
    from portal.domain.delay_choice import check_choice

    found = check_choice(delay_state=state, alternatives=offered, chosen=chosen, handled=handled)
    assert (found.value if found else None) == refusal


def test_choice_summary() -> None:
    from portal.services.delay_choice import choice_summary

    assert choice_summary("weather", "10% off", None, "pickup_point") == (
        "Customer chose 'collect the parcel from a pickup point' for the weather delay "
        "(offered: 10% off)"
    )
    assert choice_summary("customs", None, "pickup_point", "cancel") == (
        "Customer changed the choice for the customs delay from "
        "'collect the parcel from a pickup point' to 'cancel the order for a full refund'"
    )
