"""Logging that never carries a share-link token."""

from __future__ import annotations

import logging
import re

# Share links (/t/...) and staff password-reset links (/support/reset/...).
_TOKEN = re.compile(r"/(t|support/reset)/[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """Replace share-link and reset-link tokens in paths and URLs with a placeholder."""
    return _TOKEN.sub(r"/\1/<token>", text)


class RedactTokens(logging.Filter):
    """Rewrites log records whose message or arguments contain a tracking-page path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_redaction() -> None:
    """Attach the filter to the loggers that print request paths (idempotent)."""
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn", "portal.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
