"""Logging that never carries a share-link token."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

# Share links (/t/...) and staff password-reset links (/support/reset/...).
_TOKEN = re.compile(r"/(t|support/reset)/[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """Replace share-link and reset-link tokens in paths and URLs with a placeholder."""
    return _TOKEN.sub(r"/\1/<token>", text)


def _redacted_arg(arg: object) -> object:
    if isinstance(arg, str):
        return redact(arg)
    if arg is None or isinstance(arg, int | float):
        return arg
    text = str(arg)  # a URL or request object prints its path
    cleaned = redact(text)
    return arg if cleaned == text else cleaned


class RedactTokens(logging.Filter):
    """Rewrites log records whose message or arguments contain a tracking-page path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(a) for a in record.args)
        return True


def _redacting_factory(
    previous: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        RedactTokens().filter(record)
        if record.exc_info and not record.exc_text:
            # A traceback's messages may quote a path; formatters use exc_text when it is set.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    return factory


def install_redaction() -> None:
    """Redact every log record of the process, error tracebacks included (idempotent).

    A record factory reaches records of every logger (a logger's filters see only its own
    records, not its children's); the filters on the server's loggers stay for records made
    before the factory was installed.
    """
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn", "portal.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts", False):
        logging.setLogRecordFactory(_redacting_factory(current))
