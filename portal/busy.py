"""Whether a database error means "busy, try again" (locks) rather than a fault."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError

# SQLite result codes (low byte of the extended code).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected, serialization_failure.
_PG_BUSY_STATES = frozenset({"55P03", "40P01", "40001"})


def is_database_busy(exc: BaseException) -> bool:
    """True for a lock another writer held past the wait; nothing was written, a retry may pass."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return isinstance(state, str) and state in _PG_BUSY_STATES
