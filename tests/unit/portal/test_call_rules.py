"""What completing a call does to its task (portal.domain.calls), as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.domain.calls import CallState, after_call
from portal.domain.interactions import InteractionOutcome as O
from portal.errors import ValidationFailed

NOW = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("outcome", "again", "state", "due"),
    [
        (O.ANSWERED, None, CallState.DONE, None),
        (O.RESOLVED, None, CallState.DONE, None),
        (O.NO_ANSWER, None, CallState.DONE, None),  # given up: no new time
        (O.NO_ANSWER, NOW + HOUR, CallState.OPEN, NOW + HOUR),
        (O.LEFT_MESSAGE, NOW + 24 * HOUR, CallState.OPEN, NOW + 24 * HOUR),
        (O.NO_ANSWER, NOW + timedelta(days=30), CallState.OPEN, NOW + timedelta(days=30)),
    ],
)
def test_after_a_call(outcome: O, again: datetime | None, state: CallState, due: object) -> None:
    result = after_call(outcome, again, NOW)
    assert (result.state, result.due_at) == (state, due)


@pytest.mark.parametrize(
    ("outcome", "again", "message"),
    [
        (O.ANSWERED, NOW + HOUR, "did not reach"),
        (O.CALLBACK_REQUESTED, NOW + HOUR, "did not reach"),
        (O.NO_ANSWER, NOW, "in the future"),
        (O.NO_ANSWER, NOW - HOUR, "in the future"),
        (O.NO_ANSWER, NOW + timedelta(days=30, seconds=1), "30 days"),
    ],
)
def test_refused_reschedules(outcome: O, again: datetime, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        after_call(outcome, again, NOW)
