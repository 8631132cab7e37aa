"""Properties of the SLA clock over random calendars and histories (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.domain.business_time import BusinessCalendar, OpeningHours
from portal.domain.inquiries import InquiryState, Priority, SlaTarget, TargetState
from portal.domain.sla import HistoryEntry, HistoryKind, SlaPolicy, evaluate

PROPERTIES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = datetime(2027, 3, 22, 6, tzinfo=UTC)  # a week with a DST change in Europe
FAR = BASE + timedelta(days=120)
ZONES = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"])
INF = datetime.max.replace(tzinfo=UTC)


def _stretches(slots: frozenset[int]) -> tuple[OpeningHours, ...]:
    """Hour slots of a day (0-23) merged into opening hours."""
    found: list[OpeningHours] = []
    for hour in sorted(slots):
        if found and found[-1].end == hour * 60:
            found[-1] = OpeningHours(found[-1].start, (hour + 1) * 60)
        else:
            found.append(OpeningHours(hour * 60, (hour + 1) * 60))
    return tuple(found)


def calendar_of(zone: str, week: list[frozenset[int]]) -> BusinessCalendar:
    return BusinessCalendar(zone, {d: _stretches(week[d]) for d in range(7)})


WEEK = st.lists(st.frozensets(st.integers(0, 23), max_size=10), min_size=7, max_size=7).filter(
    lambda week: any(week)
)
MINUTE = st.integers(0, 14 * 24 * 60)
PRIORITY = st.sampled_from(list(Priority))


@st.composite
def histories(draw: st.DrawFn, *, states: bool = True) -> list[HistoryEntry]:
    entries = [HistoryEntry(BASE, HistoryKind.OPENED, priority=draw(PRIORITY))]
    kinds = [HistoryKind.CUSTOMER_MESSAGE, HistoryKind.REPLY_SENT, HistoryKind.PRIORITY]
    if states:
        kinds.append(HistoryKind.STATE)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds))
        when = BASE + timedelta(minutes=draw(MINUTE))
        entries.append(
            HistoryEntry(
                when,
                kind,
                state=draw(st.sampled_from(list(InquiryState)))
                if kind is HistoryKind.STATE
                else None,
                priority=draw(PRIORITY) if kind is HistoryKind.PRIORITY else None,
            )
        )
    return sorted(entries, key=lambda e: e.at)


def _due(policy: SlaPolicy, history: list[HistoryEntry], target: SlaTarget) -> datetime:
    return evaluate(policy, history, FAR).clocks[target].due_at or INF


@PROPERTIES
@given(
    zone=ZONES,
    week=WEEK,
    history=histories(states=False),
    pause_at=MINUTE,
    pause_for=st.integers(1, 5 * 24 * 60),
    resumed=st.booleans(),
)
def test_pausing_never_brings_a_due_time_earlier(
    zone: str,
    week: list[frozenset[int]],
    history: list[HistoryEntry],
    pause_at: int,
    pause_for: int,
    resumed: bool,
) -> None:
    policy = SlaPolicy(calendar=calendar_of(zone, week))
    # No customer message may fall inside the pause: it would resume the clock (by design).
    start = BASE + timedelta(minutes=pause_at)
    end = start + timedelta(minutes=pause_for)
    history = [
        e for e in history if e.kind is not HistoryKind.CUSTOMER_MESSAGE or not start <= e.at <= end
    ]
    paused = [
        *history,
        HistoryEntry(start, HistoryKind.STATE, state=InquiryState.WAITING_ON_CUSTOMER),
    ]
    if resumed:
        paused.append(HistoryEntry(end, HistoryKind.STATE, state=InquiryState.OPEN))
    for target in SlaTarget:
        assert _due(policy, paused, target) >= _due(policy, history, target), target


@PROPERTIES
@given(zone=ZONES, week=WEEK, extra=WEEK, history=histories())
def test_more_business_hours_never_make_a_due_time_later(
    zone: str,
    week: list[frozenset[int]],
    extra: list[frozenset[int]],
    history: list[HistoryEntry],
) -> None:
    fewer = SlaPolicy(calendar=calendar_of(zone, week))
    more = SlaPolicy(calendar=calendar_of(zone, [a | b for a, b in zip(week, extra, strict=True)]))
    for target in SlaTarget:
        assert _due(more, history, target) <= _due(fewer, history, target), target


@PROPERTIES
@given(
    zone=ZONES,
    week=WEEK,
    history=histories(),
    later=histories(),
    split=MINUTE,
    look=st.integers(0, 30 * 24 * 60),
)
def test_met_is_final(
    zone: str,
    week: list[frozenset[int]],
    history: list[HistoryEntry],
    later: list[HistoryEntry],
    split: int,
    look: int,
) -> None:
    policy = SlaPolicy(calendar=calendar_of(zone, week))
    now = BASE + timedelta(minutes=split)
    before = evaluate(policy, history, now)
    # Whatever happens after `now` (later entries shifted past it), a met target stays met.
    shift = now - BASE + timedelta(seconds=1)
    more = [
        HistoryEntry(e.at + shift, e.kind, e.state, e.priority)
        for e in later
        if e.kind is not HistoryKind.OPENED
    ]
    after = evaluate(policy, [*history, *more], now + timedelta(minutes=look))
    for target, clock in before.clocks.items():
        if clock.state is not TargetState.MET:
            continue
        again = after.clocks[target]
        if target is SlaTarget.NEXT_RESPONSE and again.started_at != clock.started_at:
            continue  # a new cycle, started by a later customer message
        assert again.state is TargetState.MET, target
        assert again.stopped_at == clock.stopped_at


@PROPERTIES
@given(zone=ZONES, week=WEEK, history=histories(), look=MINUTE)
def test_business_minutes_never_exceed_elapsed_minutes(
    zone: str, week: list[frozenset[int]], history: list[HistoryEntry], look: int
) -> None:
    policy = SlaPolicy(calendar=calendar_of(zone, week))
    now = BASE + timedelta(minutes=look)
    for clock in evaluate(policy, history, now).clocks.values():
        if clock.started_at is not None:
            elapsed = (now - clock.started_at).total_seconds() / 60
            assert clock.business_minutes <= max(elapsed, 0) + 0.01
