"""Order search: what a typed query means, as values the search service turns into SQL. Pure.

A query matches an order when any of its terms is a case-insensitive substring of the order's
number, customer email, customer name, phone (E.164, or its digits) or a tracking number. The
terms are the query itself plus, when it looks like a phone number, its digits (so
"(415) 555-2671" finds +14155552671), and, when it is a code typed with spaces, the code without
them (a code has a digit: a name typed with spaces is not one). ``%`` and ``_`` are ordinary
characters.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

MAX_QUERY = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Trigram indexes need at least three characters; shorter terms are matched by a scan.
MIN_INDEXED = 3
# Separates the fields in the search table's text, so no match spans two fields.
FIELD_SEPARATOR = "\x1f"

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
_CODE_WITH_SPACES = re.compile(r"^[A-Za-z0-9-]+(?:\s+[A-Za-z0-9-]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchError(ValueError):
    """A query or cursor that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str
    terms: tuple[str, ...]

    @property
    def indexed(self) -> bool:
        """Every term is long enough for the trigram index."""
        return all(len(t) >= MIN_INDEXED for t in self.terms)

    def fts_match(self) -> str:
        """An SQLite FTS5 trigram MATCH expression: each term a quoted phrase (a substring)."""
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in self.terms)

    def like_patterns(self) -> list[str]:
        """LIKE patterns, one per term, with ``\\`` as the escape character."""
        return [f"%{escape_like(t)}%" for t in self.terms]


def escape_like(value: str) -> str:
    """Make ``%``, ``_`` and the escape character itself literal in a LIKE pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_query(raw: str | None) -> SearchQuery | None:
    """The search a box's text asks for, or None when there is nothing to search."""
    text = " ".join(_CONTROL.sub(" ", raw or "").split())[:MAX_QUERY]
    if not text:
        return None
    terms = [text]
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= MIN_INDEXED:
            terms.append(digits)
    if _CODE_WITH_SPACES.match(text) and any(c.isdigit() for c in text):
        terms.append(re.sub(r"\s+", "", text))
    return SearchQuery(text, tuple(dict.fromkeys(terms)))


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise SearchError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(order_id: int) -> str:
    """An opaque cursor: results continue after (below) this order id."""
    return base64.urlsafe_b64encode(f"o{order_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SearchError("the cursor is not valid") from None
    if not text.startswith("o") or not text[1:].isdigit():
        raise SearchError("the cursor is not valid")
    return int(text[1:])
