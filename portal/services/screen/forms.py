"""The order screen's forms read into typed values. Pure: fields in, values or errors out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ...domain.interactions import Direction, InteractionChannel, InteractionOutcome
from ...errors import ValidationFailed
from ...schemas import DelayCreate

MAX_SUMMARY = 2000
MAX_DURATION_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class InteractionForm:
    channel: InteractionChannel
    direction: Direction
    outcome: InteractionOutcome
    summary: str
    duration_s: int | None
    inquiry_id: int | None
    callback_at: datetime | None  # for callback_requested: when to call (UTC)


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"loc": [field], "msg": message})

    def raise_any(self, what: str) -> None:
        if self.items:
            raise ValidationFailed(f"the {what} has invalid fields", details=self.items)


E = TypeVar("E", InteractionChannel, Direction, InteractionOutcome)


def _choice(kind: type[E], raw: str, field: str, problems: _Problems) -> E | None:
    try:
        return kind(raw)
    except ValueError:
        problems.add(field, f"choose one of {', '.join(m.value for m in kind)}")
        return None


def _whole(raw: str, field: str, low: int, high: int, problems: _Problems) -> int | None:
    if not raw.strip():
        return None
    text = raw.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        problems.add(field, f"a whole number from {low} to {high}")
        return None
    return int(text)


def local_moment(raw: str, timezone: str, field: str, problems: _Problems) -> datetime | None:
    """A ``datetime-local`` value (as browsers send it) read in ``timezone``, as UTC."""
    if not raw.strip():
        return None
    try:
        naive = datetime.fromisoformat(raw.strip())
    except ValueError:
        problems.add(field, "a date and time such as 2027-03-02T14:30")
        return None
    if naive.tzinfo is not None:
        problems.add(field, "a local date and time, without a zone")
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))


def read_interaction(fields: Mapping[str, str], timezone: str) -> InteractionForm:
    """The log-an-interaction form; ValidationFailed lists every bad field."""
    problems = _Problems()
    channel = _choice(InteractionChannel, fields.get("channel", ""), "channel", problems)
    direction = _choice(Direction, fields.get("direction", ""), "direction", problems)
    outcome = _choice(InteractionOutcome, fields.get("outcome", ""), "outcome", problems)
    summary = fields.get("summary", "").strip()
    if not summary:
        problems.add("summary", "say what was discussed")
    elif len(summary) > MAX_SUMMARY:
        problems.add("summary", f"at most {MAX_SUMMARY} characters")
    duration = _whole(fields.get("duration_s", ""), "duration_s", 0, MAX_DURATION_S, problems)
    inquiry = _whole(fields.get("inquiry_id", ""), "inquiry_id", 1, 2**31 - 1, problems)
    callback = local_moment(fields.get("callback_at", ""), timezone, "callback_at", problems)
    problems.raise_any("interaction")
    assert channel is not None and direction is not None and outcome is not None
    return InteractionForm(channel, direction, outcome, summary, duration, inquiry, callback)


def read_delay(fields: Mapping[str, str], alternatives: Sequence[str]) -> DelayCreate:
    """The open-a-delay form as the API's DelayCreate (the same validation)."""
    raw: dict[str, object] = {
        "reason_code": fields.get("reason_code", ""),
        "message": fields.get("message", "").strip(),
        "alternatives": list(alternatives),
    }
    if fields.get("new_estimated_delivery", "").strip():
        raw["new_estimated_delivery"] = fields["new_estimated_delivery"].strip()
    if fields.get("compensation", "").strip():
        raw["compensation"] = fields["compensation"].strip()
    try:
        return DelayCreate.model_validate(raw)
    except ValidationError as exc:
        details = [{"loc": [str(p) for p in e["loc"]], "msg": str(e["msg"])} for e in exc.errors()]
        raise ValidationFailed("the delay has invalid fields", details=details) from None


@dataclass(frozen=True, slots=True)
class CallForm:
    outcome: InteractionOutcome
    note: str
    duration_s: int | None
    reschedule_at: datetime | None  # UTC


def read_call(fields: Mapping[str, str], timezone: str) -> CallForm:
    """The complete-a-call form; ``reschedule_at`` is read in the customer's time zone."""
    problems = _Problems()
    outcome = _choice(InteractionOutcome, fields.get("outcome", ""), "outcome", problems)
    note = fields.get("note", "").strip()
    if len(note) > MAX_SUMMARY:
        problems.add("note", f"at most {MAX_SUMMARY} characters")
    duration = _whole(fields.get("duration_s", ""), "duration_s", 0, MAX_DURATION_S, problems)
    again = local_moment(fields.get("reschedule_at", ""), timezone, "reschedule_at", problems)
    problems.raise_any("call")
    assert outcome is not None
    return CallForm(outcome, note, duration, again)
