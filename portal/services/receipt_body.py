"""How a webhook receipt keeps the raw body: whole, even when a column could not hold it as text."""

from __future__ import annotations

import base64

BASE64_PREFIX = "base64:"


def kept_body(body: bytes) -> str:
    """The body as received when it is UTF-8 text without NUL, else ``base64:`` and its base64.

    PostgreSQL text refuses NUL and any database would need the bytes lossily replaced to store
    invalid UTF-8; neither can be valid JSON, so such a body is only ever a dead letter, kept
    for audit (``raw_body_base64`` in an archive).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text or text.startswith(BASE64_PREFIX):
        return BASE64_PREFIX + base64.b64encode(body).decode("ascii")
    return text


def raw_bytes(kept: str) -> bytes:
    """The bytes received, from what :func:`kept_body` stored."""
    if kept.startswith(BASE64_PREFIX):
        return base64.b64decode(kept[len(BASE64_PREFIX) :])
    return kept.encode("utf-8")
