"""The SLA clock: from a policy, an inquiry's history and an instant, each target's due time.

Pure: no clock reads, no I/O; the instant is passed in. Three targets run on business time:

- ``first_response`` starts when the inquiry opens and is met by the first reply *sent*;
- ``next_response`` starts at a customer message that follows a reply (a new cycle each time)
  and is met by the next reply sent;
- ``resolution`` starts when the inquiry opens and is met when it is resolved.

``waiting_on_customer`` pauses ``next_response`` and ``resolution`` (not the first response: a
question asked back is not an answer); a customer message resumes them. A priority change
applies the new priority's targets to the time already used, so a raised priority can make a
target due at once. A target that is met or breached stays so (``met`` is final); a customer
writing again after resolution reopens the inquiry and starts a ``next_response`` cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .business_time import BusinessCalendar, OpeningHours, minutes
from .inquiries import InquiryState, Priority, SlaEventKind, SlaTarget, TargetState


@dataclass(frozen=True, slots=True)
class Targets:
    """Business minutes allowed for each target, for one priority."""

    first_response: int
    next_response: int
    resolution: int

    def of(self, target: SlaTarget) -> int:
        value: int = getattr(self, target.value)
        return value


DEFAULT_TARGETS: Mapping[Priority, Targets] = {
    Priority.LOW: Targets(first_response=480, next_response=960, resolution=4320),
    Priority.NORMAL: Targets(first_response=240, next_response=480, resolution=2880),
    Priority.HIGH: Targets(first_response=60, next_response=120, resolution=960),
    Priority.URGENT: Targets(first_response=30, next_response=60, resolution=480),
}
_WEEKDAY_HOURS = (OpeningHours(9 * 60, 17 * 60 + 30),)
DEFAULT_CALENDAR = BusinessCalendar(timezone="UTC", hours={day: _WEEKDAY_HOURS for day in range(5)})
DEFAULT_WARNING_MINUTES = 30


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority on a business calendar; ``warning_minutes`` before a due time."""

    calendar: BusinessCalendar = DEFAULT_CALENDAR
    targets: Mapping[Priority, Targets] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    warning_minutes: int = DEFAULT_WARNING_MINUTES
    name: str = "default"

    def minutes_for(self, priority: Priority, target: SlaTarget) -> int:
        return self.targets.get(priority, DEFAULT_TARGETS[priority]).of(target)


DEFAULT_POLICY = SlaPolicy()


class HistoryKind(StrEnum):
    OPENED = "opened"  # carries the initial priority
    CUSTOMER_MESSAGE = "customer_message"
    REPLY_SENT = "reply_sent"  # an agent's reply, when it was sent (not typed)
    STATE = "state"  # carries the new state
    PRIORITY = "priority"  # carries the new priority


# Entries at the same instant are taken in the order people act: a message is read, then
# answered, then the inquiry's state is set.
ORDER = {
    HistoryKind.OPENED: 0,
    HistoryKind.PRIORITY: 1,
    HistoryKind.CUSTOMER_MESSAGE: 2,
    HistoryKind.REPLY_SENT: 3,
    HistoryKind.STATE: 4,
}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    kind: HistoryKind
    state: InquiryState | None = None
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class TargetClock:
    """One target at one instant. ``due_at`` is None while paused or not started."""

    target: SlaTarget
    state: TargetState
    due_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    business_minutes: float = 0.0
    target_minutes: int | None = None


@dataclass(frozen=True)
class SlaSnapshot:
    at: datetime
    state: InquiryState
    priority: Priority
    clocks: Mapping[SlaTarget, TargetClock]

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest due time of a target still running: when this inquiry next breaches."""
        dues = [c.due_at for c in self.clocks.values() if c.state is TargetState.PENDING]
        return min((d for d in dues if d is not None), default=None)

    @property
    def breached(self) -> bool:
        return any(c.state is TargetState.BREACHED for c in self.clocks.values())

    def warning(self, warning_minutes: int) -> bool:
        """A running target is due within ``warning_minutes`` (wall-clock) of this instant."""
        due = self.next_due_at
        return due is not None and due - self.at <= timedelta(minutes=warning_minutes)


@dataclass
class _Run:
    """One target's clock being built: from each change on, running or not, with a target."""

    started_at: datetime
    changes: list[tuple[datetime, bool, int]]
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.changes[-1][1]

    def change(
        self, at: datetime, *, running: bool | None = None, target: int | None = None
    ) -> None:
        if self.stopped_at is not None:
            return
        _, was_running, was_target = self.changes[-1]
        now_running = was_running if running is None else running
        now_target = was_target if target is None else target
        if (now_running, now_target) != (was_running, was_target):
            self.changes.append((at, now_running, now_target))

    def stop(self, at: datetime) -> None:
        if self.stopped_at is None:
            self.stopped_at = at


@dataclass
class _Walk:
    policy: SlaPolicy
    state: InquiryState = InquiryState.OPEN
    priority: Priority = Priority.NORMAL
    runs: dict[SlaTarget, _Run] = field(default_factory=dict)

    def minutes(self, target: SlaTarget) -> int:
        return self.policy.minutes_for(self.priority, target)

    def start(self, target: SlaTarget, at: datetime, *, running: bool = True) -> None:
        self.runs[target] = _Run(at, [(at, running, self.minutes(target))])

    def apply(self, entry: HistoryEntry) -> None:
        if entry.kind is HistoryKind.OPENED:
            self.priority = entry.priority or Priority.NORMAL
            self.start(SlaTarget.FIRST_RESPONSE, entry.at)
            self.start(SlaTarget.RESOLUTION, entry.at)
        elif entry.kind is HistoryKind.CUSTOMER_MESSAGE:
            self._customer_message(entry.at)
        elif entry.kind is HistoryKind.REPLY_SENT:
            for target in (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE):
                if target in self.runs:
                    self.runs[target].stop(entry.at)
        elif entry.kind is HistoryKind.STATE and entry.state is not None:
            self._set_state(entry.state, entry.at)
        elif entry.kind is HistoryKind.PRIORITY and entry.priority is not None:
            self.priority = entry.priority
            for target, run in self.runs.items():
                run.change(entry.at, target=self.minutes(target))

    def _customer_message(self, at: datetime) -> None:
        if self.state is not InquiryState.OPEN:
            self._set_state(InquiryState.OPEN, at)
        first = self.runs.get(SlaTarget.FIRST_RESPONSE)
        cycle = self.runs.get(SlaTarget.NEXT_RESPONSE)
        answered = first is not None and first.stopped_at is not None
        if answered and (cycle is None or cycle.stopped_at is not None):
            self.start(SlaTarget.NEXT_RESPONSE, at)

    def _set_state(self, state: InquiryState, at: datetime) -> None:
        self.state = state
        pausable = (SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION)
        for target in pausable:
            run = self.runs.get(target)
            if run is None:
                continue
            if state is InquiryState.RESOLVED:
                run.stop(at)
            else:
                run.change(at, running=state is InquiryState.OPEN)


def evaluate(policy: SlaPolicy, history: Iterable[HistoryEntry], now: datetime) -> SlaSnapshot:
    """Each target's state and due time at ``now``, from the history up to ``now``."""
    walk = _Walk(policy)
    for entry in sorted((e for e in history if e.at <= now), key=lambda e: (e.at, ORDER[e.kind])):
        walk.apply(entry)
    clocks = {
        target: _clock(policy.calendar, target, walk.runs.get(target), now) for target in SlaTarget
    }
    return SlaSnapshot(at=now, state=walk.state, priority=walk.priority, clocks=clocks)


def _clock(
    calendar: BusinessCalendar, target: SlaTarget, run: _Run | None, now: datetime
) -> TargetClock:
    if run is None:
        return TargetClock(target, TargetState.PENDING)
    due = due_time(calendar, run.changes)
    end = min(run.stopped_at, now) if run.stopped_at is not None else now
    used = minutes(_used(calendar, run.changes, end))
    if run.stopped_at is not None:
        state = TargetState.MET if due is None or run.stopped_at <= due else TargetState.BREACHED
    elif due is not None and due <= now:
        state = TargetState.BREACHED
    elif not run.running:
        state = TargetState.PAUSED
    else:
        state = TargetState.PENDING
    return TargetClock(
        target,
        state,
        due_at=due if state is not TargetState.PAUSED else None,
        started_at=run.started_at,
        stopped_at=run.stopped_at,
        business_minutes=round(used, 2),
        target_minutes=run.changes[-1][2],
    )


def due_time(
    calendar: BusinessCalendar, changes: Sequence[tuple[datetime, bool, int]]
) -> datetime | None:
    """When the business time used reaches the target in force; None if paused before that."""
    used = timedelta(0)
    for i, (start, running, target) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else None
        remaining = timedelta(minutes=target) - used
        if remaining <= timedelta(0):
            return start
        if not running:
            continue
        candidate = calendar.add(start, remaining)
        if end is None or candidate <= end:
            return candidate
        used += calendar.between(start, end)
    return None


def _used(
    calendar: BusinessCalendar, changes: Sequence[tuple[datetime, bool, int]], until: datetime
) -> timedelta:
    used = timedelta(0)
    for i, (start, running, _) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else until
        if running:
            used += calendar.between(start, min(end, until))
    return used


@dataclass(frozen=True, slots=True)
class SlaTransition:
    """An SLA event to record: what happened to which target, and when."""

    target: SlaTarget
    kind: SlaEventKind
    at: datetime


_KIND_OF_STATE = {
    TargetState.PAUSED: SlaEventKind.PAUSE,
    TargetState.MET: SlaEventKind.MET,
    TargetState.BREACHED: SlaEventKind.BREACH,
}


def transitions(before: SlaSnapshot | None, after: SlaSnapshot) -> list[SlaTransition]:
    """The SLA events between two snapshots of one inquiry (before None: it just opened)."""
    found: list[SlaTransition] = []
    for target, now in after.clocks.items():
        if now.started_at is None:
            continue
        was = before.clocks.get(target) if before is not None else None
        if was is None or was.started_at != now.started_at:
            found.append(SlaTransition(target, SlaEventKind.START, now.started_at))
            previous = TargetState.PENDING
        else:
            previous = was.state
        if now.state is previous:
            continue
        if now.state is TargetState.PENDING:
            if previous is TargetState.PAUSED:
                found.append(SlaTransition(target, SlaEventKind.RESUME, after.at))
            continue
        at = {
            TargetState.MET: now.stopped_at,
            TargetState.BREACHED: now.due_at,
        }.get(now.state) or after.at
        found.append(SlaTransition(target, _KIND_OF_STATE[now.state], at))
    return found
