"""portal.services.archive: the pure parts (token redaction, a receipt as exported)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from portal.security import hash_token
from portal.services.archive import receipt_json, redact_tokens
from portal.services.webhook_receipts import stored_body

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
