"""portal.services.webhook_receipts: what a receipt keeps of a carrier delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from carriers.base import ParsedWebhook, TrackingUpdate
from carriers.status import ShipmentStatus
from portal.models import WebhookReceipt
from portal.services.webhook_receipts import (
    audit_headers,
    received_body,
    stored_body,
    stored_dedupe_key,
    tracking_list,
)
from tests.webhook_sender import generic_body, sign

AT = datetime(2027, 3, 1, 8, 15, tzinfo=UTC)
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtMTIzNDU2"


def test_a_short_dedupe_key_is_kept_as_sent_without_surrounding_space() -> None:
    assert stored_dedupe_key("  msg_1 ") == "msg_1"
    assert stored_dedupe_key("k" * 200) == "k" * 200


def test_a_long_dedupe_key_is_hashed_never_cut() -> None:
    first, second = stored_dedupe_key("k" * 300 + "a"), stored_dedupe_key("k" * 300 + "b")
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64
    assert first != second  # cut to 200 characters, both would be the same key
    assert stored_dedupe_key("k" * 300 + "a") == first


@pytest.mark.parametrize(
    "body", ['{"m": "Café"}'.encode(), b'{"m": "Caf\xe9"}', b'{"m": "a\x00b"}', b""]
)
def test_the_exact_body_comes_back_from_what_is_stored(body: bytes) -> None:
    text, exact = stored_body(body)
    assert "\x00" not in text  # PostgreSQL text refuses NUL
    receipt = WebhookReceipt(
        carrier="generic", dedupe_key="k", outcome="dead_letter", body=text, body_base64=exact
    )
    assert received_body(receipt) == body


def test_a_utf8_body_without_nul_needs_no_exact_copy() -> None:
    assert stored_body('{"m": "Café"}'.encode()) == ('{"m": "Café"}', None)


def test_audit_headers_keep_the_signature_and_drop_credentials() -> None:
    signed = sign("generic", generic_body("TT1", "in_transit", AT, "Sorted"), SECRET, AT)
    headers = {**signed.headers, "authorization": "Bearer x", "credential": "ups-secret"}
    assert json.loads(audit_headers(headers)) == signed.headers


def _update(number: str) -> TrackingUpdate:
    return TrackingUpdate(number, "dhl", ShipmentStatus.IN_TRANSIT, AT, "Sorted", "transit")


def test_the_tracking_list_is_sorted_unique_and_comma_fenced() -> None:
    parsed = ParsedWebhook("k", (_update("B2"), _update("A1"), _update("B2")))
    assert tracking_list(parsed) == ",A1,B2,"
    assert tracking_list(ParsedWebhook("k", ())) == ""
