"""A receipt keeps the raw body whole: text when it can be, base64 when it cannot."""

from __future__ import annotations

import pytest

from portal.services.receipt_body import kept_body, raw_bytes


@pytest.mark.parametrize(
    ("body", "as_text"),
    [
        (b'{"a": "b"}', True),
        ('{"city": "Zürich"}'.encode(), True),
        (b'{"a": "\\u0000"}', True),  # an escaped NUL is plain text
        (b'{"a": "\x00"}', False),
        (b"\xff\xfe not utf-8", False),
        (b"base64:looks-like-ours", False),
        (b"", True),
    ],
)
def test_kept_body_round_trips(body: bytes, as_text: bool) -> None:
    kept = kept_body(body)
    assert "\x00" not in kept
    assert (kept == body.decode("utf-8", "replace")) is as_text
    assert raw_bytes(kept) == body
