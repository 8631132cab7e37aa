"""Password-reset links never reach the logs, like share links."""

from __future__ import annotations

import pytest

from portal.logs import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"GET /support/reset/AbC_123-xyz456 HTTP/1.1"', '"GET /support/reset/<token> HTTP/1.1"'),
        ("POST /t/AbC_123-xyz456/ws", "POST /t/<token>/ws"),
        ("/support/reset/", "/support/reset/"),
        ("/support/orders/A1001", "/support/orders/A1001"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
