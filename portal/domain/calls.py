"""Call tasks' rules: what completing a call does to its task. Pure (time passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ..errors import ValidationFailed
from .interactions import InteractionOutcome


class CallReason(StrEnum):
    DELAY_NOTICE = "delay_notice"
    CALLBACK = "callback"


class CallState(StrEnum):
    OPEN = "open"
    DONE = "done"


# Outcomes that mean the customer was not reached: the task may be tried again later.
UNREACHED = frozenset({InteractionOutcome.NO_ANSWER, InteractionOutcome.LEFT_MESSAGE})
# How far ahead a call may be rescheduled.
MAX_RESCHEDULE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class CallAfter:
    """The task after a call: still open (and due again at ``due_at``) or done."""

    state: CallState
    due_at: datetime | None


def after_call(
    outcome: InteractionOutcome, reschedule_at: datetime | None, now: datetime
) -> CallAfter:
    """What a completed call attempt leaves: an unreached customer may be called again at a
    later time; any other outcome (or no new time) closes the task."""
    if reschedule_at is None:
        return CallAfter(CallState.DONE, None)
    if outcome not in UNREACHED:
        raise ValidationFailed(
            "only a call that did not reach the customer can be rescheduled",
            details=[
                {"loc": ["reschedule_at"], "msg": "only an unreached customer is rescheduled"}
            ],
        )
    if reschedule_at <= now:
        raise ValidationFailed(
            "the new call time must be in the future",
            details=[{"loc": ["reschedule_at"], "msg": "must be later than now"}],
        )
    if reschedule_at - now > MAX_RESCHEDULE:
        raise ValidationFailed(
            "a call can be rescheduled up to 30 days ahead",
            details=[{"loc": ["reschedule_at"], "msg": "too far ahead"}],
        )
    return CallAfter(CallState.OPEN, reschedule_at)
