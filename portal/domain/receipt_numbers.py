"""Which tracking numbers a webhook receipt is about (pure; kept in ``receipt_tracking``).

A parsed receipt names its numbers (``tracking_numbers`` is ``,A,B,``). A dead letter could
not be parsed, so it is about every word of its raw body shaped like a tracking number (a run
of letters, digits and hyphens, 4 to 64 long: the shipments' own rule). A dead letter with more
than ``MAX_MENTIONED`` such words is not indexed word by word: it gets the one number
``UNINDEXED`` and the archive reads its body (the bounded fallback: only those receipts).
"""

from __future__ import annotations

import re

DEAD_LETTER = "dead_letter"
# No tracking number is empty, so this marks "read the body" without meaning a parcel.
UNINDEXED = ""
MAX_MENTIONED = 200

_WORD = re.compile(r"[A-Za-z0-9-]+")
_SHORTEST, _LONGEST = 4, 64


def named_numbers(tracking_numbers: str) -> tuple[str, ...]:
    """The numbers of a ``,A,B,`` column, in order, without blanks."""
    return tuple(n for n in tracking_numbers.split(",") if n)


def mentioned_numbers(body: str) -> frozenset[str]:
    """Every word of ``body`` that could be a tracking number."""
    return frozenset(word for word in _WORD.findall(body) if _SHORTEST <= len(word) <= _LONGEST)


def receipt_numbers(outcome: str, tracking_numbers: str, body: str) -> tuple[str, ...]:
    """The rows ``receipt_tracking`` keeps for a receipt, sorted."""
    named = named_numbers(tracking_numbers)
    if named or outcome != DEAD_LETTER:
        return tuple(sorted(set(named)))
    mentioned = mentioned_numbers(body)
    if len(mentioned) > MAX_MENTIONED:
        return (UNINDEXED,)
    return tuple(sorted(mentioned))
