"""The SLA clock, table-driven: due times and states of each target from an inquiry's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.domain.business_time import BusinessCalendar, OpeningHours
from portal.domain.inquiries import InquiryState, Priority, SlaEventKind, SlaTarget, TargetState
from portal.domain.sla import (
    DEFAULT_TARGETS,
    HistoryEntry,
    HistoryKind,
    SlaPolicy,
    Targets,
    evaluate,
    transitions,
)

LONDON = ZoneInfo("Europe/London")
FR, NR, RES = SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION
HOURS = (OpeningHours(9 * 60, 17 * 60),)
POLICY = SlaPolicy(
    calendar=BusinessCalendar("Europe/London", {d: HOURS for d in range(5)}, countries=("GB-ENG",)),
    targets={
        **DEFAULT_TARGETS,
        Priority.NORMAL: Targets(first_response=240, next_response=120, resolution=960),
        Priority.HIGH: Targets(first_response=60, next_response=30, resolution=480),
    },
)


def at(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON)


def opened(when: datetime, priority: Priority = Priority.NORMAL) -> HistoryEntry:
    return HistoryEntry(when, HistoryKind.OPENED, priority=priority)


def customer(when: datetime) -> HistoryEntry:
    return HistoryEntry(when, HistoryKind.CUSTOMER_MESSAGE)


def reply(when: datetime) -> HistoryEntry:
    return HistoryEntry(when, HistoryKind.REPLY_SENT)


def state(when: datetime, value: InquiryState) -> HistoryEntry:
    return HistoryEntry(when, HistoryKind.STATE, state=value)


def priority(when: datetime, value: Priority) -> HistoryEntry:
    return HistoryEntry(when, HistoryKind.PRIORITY, priority=value)


WAIT, OPEN, RESOLVED = (
    InquiryState.WAITING_ON_CUSTOMER,
    InquiryState.OPEN,
    InquiryState.RESOLVED,
)
P, PA, M, B = TargetState.PENDING, TargetState.PAUSED, TargetState.MET, TargetState.BREACHED

# (name, history, now, target, expected state, expected due (local) or None)
TABLE = [
    # Friday 18:00 question: 240 business minutes end Monday 13:00.
    ("friday evening", [opened(at(3, 5, 18))], at(3, 6, 12), FR, P, at(3, 8, 13)),
    # ... answered Monday 10:00: met.
    (
        "friday evening answered monday",
        [opened(at(3, 5, 18)), reply(at(3, 8, 10))],
        at(3, 8, 12),
        FR,
        M,
        at(3, 8, 13),
    ),
    # ... answered Monday 14:00: breached.
    (
        "answered late",
        [opened(at(3, 5, 18)), reply(at(3, 8, 14))],
        at(3, 8, 15),
        FR,
        B,
        at(3, 8, 13),
    ),
    # Not answered by Monday 13:00: breached at 13:00 exactly.
    ("unanswered", [opened(at(3, 5, 18))], at(3, 8, 13), FR, B, at(3, 8, 13)),
    # Easter 2027: Good Friday 26 Mar and Easter Monday 29 Mar are holidays in England.
    ("easter", [opened(at(3, 25, 15))], at(3, 25, 15), FR, P, at(3, 30, 11)),
    # DST: the clocks go forward on Sunday 28 March; hours stay 09:00-17:00 local, so the
    # 16 business hours (1 Wed, 8 Thu, 7 Tue after Easter) end at 16:00 BST = 15:00 UTC.
    ("dst", [opened(at(3, 24, 16))], at(3, 24, 16), RES, P, at(3, 30, 16)),
    # Resolution paused overnight: 7 h used by Tue 16:00, waiting until Wed 10:00; the
    # remaining 9 h run Wed 10-17 and Thu 9-11.
    (
        "pause across a night",
        [opened(at(3, 2, 9)), state(at(3, 2, 16), WAIT), customer(at(3, 3, 10))],
        at(3, 3, 10),
        RES,
        P,
        at(3, 4, 11),
    ),
    # While waiting, resolution is paused with no due time; first response still runs.
    (
        "paused",
        [opened(at(3, 2, 9)), state(at(3, 2, 10), WAIT)],
        at(3, 2, 11),
        RES,
        PA,
        None,
    ),
    (
        "first response never pauses",
        [opened(at(3, 2, 9)), state(at(3, 2, 10), WAIT)],
        at(3, 2, 11),
        FR,
        P,
        at(3, 2, 13),
    ),
    # Next response: not started before a reply; starts at the customer's next message.
    ("no cycle yet", [opened(at(3, 2, 9))], at(3, 2, 10), NR, P, None),
    (
        "next response cycle",
        [opened(at(3, 2, 9)), reply(at(3, 2, 10)), customer(at(3, 2, 16))],
        at(3, 2, 16),
        NR,
        P,
        at(3, 3, 10),
    ),
    (
        "next response met",
        [opened(at(3, 2, 9)), reply(at(3, 2, 10)), customer(at(3, 2, 16)), reply(at(3, 3, 9))],
        at(3, 3, 12),
        NR,
        M,
        at(3, 3, 10),
    ),
    # Resolving stops the resolution clock.
    (
        "resolved",
        [opened(at(3, 2, 9)), reply(at(3, 2, 10)), state(at(3, 2, 11), RESOLVED)],
        at(3, 9, 9),
        RES,
        M,
        at(3, 3, 17),
    ),
    # Priority raised at 10:00 to high (60 min first response): 60 used already: due at once.
    (
        "priority raised makes it due",
        [opened(at(3, 2, 9)), priority(at(3, 2, 10, 30), Priority.HIGH)],
        at(3, 2, 10, 30),
        FR,
        B,
        at(3, 2, 10, 30),
    ),
    # Raised at 9:30 (30 used): the remaining 30 of the new target from then.
    (
        "priority raised early",
        [opened(at(3, 2, 9)), priority(at(3, 2, 9, 30), Priority.HIGH)],
        at(3, 2, 9, 30),
        FR,
        P,
        at(3, 2, 10),
    ),
    # History after `now` is not seen yet.
    (
        "future ignored",
        [opened(at(3, 2, 9)), reply(at(3, 2, 12))],
        at(3, 2, 11),
        FR,
        P,
        at(3, 2, 13),
    ),
]


@pytest.mark.parametrize(
    ("history", "now", "target", "expected_state", "expected_due"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_clock_table(
    history: list[HistoryEntry],
    now: datetime,
    target: SlaTarget,
    expected_state: TargetState,
    expected_due: datetime | None,
) -> None:
    clock = evaluate(POLICY, history, now).clocks[target]
    assert clock.state is expected_state
    assert clock.due_at == (expected_due.astimezone(UTC) if expected_due else None)


def test_business_minutes_used_leave_out_nights_and_pauses() -> None:
    history = [opened(at(3, 2, 16)), state(at(3, 3, 10), WAIT), state(at(3, 3, 11), OPEN)]
    snap = evaluate(POLICY, history, at(3, 3, 12))
    assert snap.clocks[FR].business_minutes == 60 + 180  # Tue 16-17, Wed 9-12
    assert snap.clocks[RES].business_minutes == 60 + 60 + 60  # Tue 16-17, Wed 9-10, 11-12


def test_a_customer_message_reopens_a_resolved_inquiry_and_starts_next_response() -> None:
    history = [
        opened(at(3, 2, 9)),
        reply(at(3, 2, 10)),
        state(at(3, 2, 11), RESOLVED),
        customer(at(3, 2, 12)),
    ]
    snap = evaluate(POLICY, history, at(3, 2, 12))
    assert snap.state is OPEN
    assert snap.clocks[RES].state is M  # met is final
    assert snap.clocks[NR].state is P
    assert snap.clocks[NR].due_at == at(3, 2, 14).astimezone(UTC)


def test_next_due_warning_and_breached() -> None:
    history = [opened(at(3, 2, 9))]
    early = evaluate(POLICY, history, at(3, 2, 10))
    assert early.next_due_at == at(3, 2, 13).astimezone(UTC)
    assert not early.warning(30)
    near = evaluate(POLICY, history, at(3, 2, 12, 31))
    assert near.warning(30) and not near.breached
    late = evaluate(POLICY, history, at(3, 2, 13))
    assert late.breached
    assert late.next_due_at == at(3, 3, 17).astimezone(UTC)  # resolution, still running


def test_transitions_between_snapshots() -> None:
    h0 = [opened(at(3, 2, 9))]
    first = evaluate(POLICY, h0, at(3, 2, 9))
    assert {(t.target, t.kind) for t in transitions(None, first)} == {
        (FR, SlaEventKind.START),
        (RES, SlaEventKind.START),
    }
    h1 = [*h0, reply(at(3, 2, 10)), state(at(3, 2, 10), WAIT)]
    second = evaluate(POLICY, h1, at(3, 2, 10))
    assert {(t.target, t.kind) for t in transitions(first, second)} == {
        (FR, SlaEventKind.MET),
        (RES, SlaEventKind.PAUSE),
    }
    h2 = [*h1, customer(at(3, 2, 11))]
    third = evaluate(POLICY, h2, at(3, 2, 11))
    assert {(t.target, t.kind) for t in transitions(second, third)} == {
        (RES, SlaEventKind.RESUME),
        (NR, SlaEventKind.START),
    }
    fourth = evaluate(POLICY, h2, at(3, 2, 13))
    breach = transitions(third, fourth)
    assert [(t.target, t.kind, t.at) for t in breach] == [
        (NR, SlaEventKind.BREACH, at(3, 2, 13).astimezone(UTC))
    ]
    assert transitions(fourth, evaluate(POLICY, h2, at(3, 2, 14))) == []


def test_priorities_left_out_take_the_defaults() -> None:
    policy = SlaPolicy(targets={Priority.HIGH: Targets(1, 2, 3)})
    assert policy.minutes_for(Priority.HIGH, FR) == 1
    assert policy.minutes_for(Priority.LOW, RES) == DEFAULT_TARGETS[Priority.LOW].resolution


def test_times_given_in_any_zone_are_the_same_instants() -> None:
    local = evaluate(POLICY, [opened(at(3, 2, 9))], at(3, 2, 10))
    utc = evaluate(
        POLICY,
        [opened(at(3, 2, 9).astimezone(UTC))],
        at(3, 2, 10).astimezone(UTC) + timedelta(0),
    )
    assert local.clocks[FR].due_at == utc.clocks[FR].due_at


def test_a_second_customer_message_keeps_the_running_cycle() -> None:
    history = [
        opened(at(3, 2, 9)),
        reply(at(3, 2, 10)),
        customer(at(3, 2, 11)),
        customer(at(3, 2, 12)),
    ]
    clock = evaluate(POLICY, history, at(3, 2, 12)).clocks[NR]
    assert clock.started_at == at(3, 2, 11)
    assert clock.due_at == at(3, 2, 13).astimezone(UTC)


def test_same_instant_entries_are_taken_in_the_order_people_act() -> None:
    t = at(3, 2, 10)
    # Given in any order: the question, the answer sent and the resolve at one instant.
    history = [state(t, RESOLVED), reply(t), customer(t), opened(t)]
    snap = evaluate(POLICY, history, t)
    assert snap.state is RESOLVED
    assert snap.clocks[FR].state is M and snap.clocks[RES].state is M
