"""Keeping an inquiry's SLA clocks: its history from the rows, the pure clock, the events.

After every change to an inquiry (and when a due time passes) :func:`refresh_clock` evaluates
the clock at ``now``, stores each target's state and due time on the inquiry, and records an
SLA event for every start, pause, resume, met and breach since the stored state. A breach or
met event carries a unique ``once_key``, so two processes seeing the same breach record it
once: the insert that loses the race does nothing. A breach is inserted uncounted; a server
claims it for its ``portal_sla_breaches_total`` after commit
(:func:`portal.services.inquiry_watch.count_breaches`), so each breach is counted once, by one
server, whichever process (server, `portal mail-in`, `portal dispatch`) recorded it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.inquiries import (
    InquiryState,
    Priority,
    SlaEventKind,
    SlaTarget,
    TargetState,
)
from ..domain.interactions import Direction
from ..domain.sla import (
    HistoryEntry,
    HistoryKind,
    SlaPolicy,
    SlaSnapshot,
    SlaTransition,
    TargetClock,
    evaluate,
    transitions,
)
from ..models import table_of
from ..models_inquiries import Inquiry, InquiryMessage, SlaEvent

_COLUMNS = {
    SlaTarget.FIRST_RESPONSE: ("first_response_state", "first_response_due_at"),
    SlaTarget.NEXT_RESPONSE: ("next_response_state", "next_response_due_at"),
    SlaTarget.RESOLUTION: ("resolution_state", "resolution_due_at"),
}


async def load_history(session: AsyncSession, inquiry: Inquiry) -> list[HistoryEntry]:
    """The clock's view of an inquiry: opened, messages in and replies sent, state and
    priority changes (those are SLA event rows of kinds ``state`` and ``priority``)."""
    messages = (
        await session.execute(
            select(InquiryMessage)
            .where(col(InquiryMessage.inquiry_id) == inquiry.id)
            .order_by(col(InquiryMessage.id))
        )
    ).scalars()
    changes = (
        await session.execute(
            select(SlaEvent)
            .where(
                col(SlaEvent.inquiry_id) == inquiry.id,
                col(SlaEvent.kind).in_([SlaEventKind.STATE.value, SlaEventKind.PRIORITY.value]),
            )
            .order_by(col(SlaEvent.id))
        )
    ).scalars()
    entries: list[HistoryEntry] = []
    opened_priority: Priority | None = None
    for event in changes:
        if event.kind == SlaEventKind.PRIORITY.value and event.value:
            if opened_priority is None and event.at <= inquiry.created_at:
                opened_priority = Priority(event.value)
                continue
            entries.append(
                HistoryEntry(event.at, HistoryKind.PRIORITY, priority=Priority(event.value))
            )
        elif event.kind == SlaEventKind.STATE.value and event.value:
            entries.append(
                HistoryEntry(event.at, HistoryKind.STATE, state=InquiryState(event.value))
            )
    for message in messages:
        if message.direction == Direction.INBOUND.value:
            entries.append(HistoryEntry(message.created_at, HistoryKind.CUSTOMER_MESSAGE))
        elif message.sent_at is not None:
            entries.append(HistoryEntry(message.sent_at, HistoryKind.REPLY_SENT))
    opened = HistoryEntry(
        inquiry.created_at,
        HistoryKind.OPENED,
        priority=opened_priority or Priority(inquiry.priority),
    )
    return [opened, *entries]  # the clock orders them (domain.sla.ORDER for equal times)


def stored_snapshot(inquiry: Inquiry) -> SlaSnapshot:
    """The clocks as last stored on the inquiry row."""
    clocks = {}
    for target, (state_col, due_col) in _COLUMNS.items():
        started = (
            inquiry.next_response_started_at
            if target is SlaTarget.NEXT_RESPONSE
            else inquiry.created_at
        )
        clocks[target] = TargetClock(
            target,
            TargetState(getattr(inquiry, state_col)),
            due_at=getattr(inquiry, due_col),
            started_at=started,
        )
    return SlaSnapshot(
        at=inquiry.updated_at,
        state=InquiryState(inquiry.state),
        priority=Priority(inquiry.priority),
        clocks=clocks,
    )


def store_snapshot(inquiry: Inquiry, snapshot: SlaSnapshot) -> None:
    for target, (state_col, due_col) in _COLUMNS.items():
        clock = snapshot.clocks[target]
        setattr(inquiry, state_col, clock.state.value)
        setattr(inquiry, due_col, clock.due_at)
    inquiry.next_response_started_at = snapshot.clocks[SlaTarget.NEXT_RESPONSE].started_at
    inquiry.next_due_at = snapshot.next_due_at
    inquiry.breached = snapshot.breached
    inquiry.state = snapshot.state.value
    first = snapshot.clocks[SlaTarget.FIRST_RESPONSE]
    inquiry.first_response_minutes = first.business_minutes if first.stopped_at else None


async def refresh_clock(
    session: AsyncSession,
    inquiry: Inquiry,
    policy: SlaPolicy,
    now: datetime,
    *,
    opened: bool = False,
) -> list[SlaTransition]:
    """Evaluate, store and record; returns the transitions newly recorded (breaches once)."""
    history = await load_history(session, inquiry)
    after = evaluate(policy, history, now)
    before = None if opened else stored_snapshot(inquiry)
    moves = transitions(before, after)
    store_snapshot(inquiry, after)
    inquiry.updated_at = now
    session.add(inquiry)
    await session.flush()
    recorded = []
    for move in moves:
        clock = after.clocks[move.target]
        if await record_sla_event(
            session,
            inquiry,
            move.kind,
            at=move.at,
            now=now,
            target=move.target,
            due_at=clock.due_at,
            once_key=_once_key(inquiry, move, clock),
        ):
            recorded.append(move)
    return recorded


def breached_targets(moves: list[SlaTransition]) -> list[str]:
    """The targets of the breaches among transitions :func:`refresh_clock` recorded."""
    return [move.target.value for move in moves if move.kind is SlaEventKind.BREACH]


def _once_key(inquiry: Inquiry, move: SlaTransition, clock: TargetClock) -> str | None:
    if move.kind not in (SlaEventKind.BREACH, SlaEventKind.MET, SlaEventKind.START):
        return None
    started = clock.started_at.isoformat() if clock.started_at else "-"
    return f"{inquiry.id}:{move.target.value}:{started}:{move.kind.value}"


async def record_sla_event(
    session: AsyncSession,
    inquiry: Inquiry,
    kind: SlaEventKind,
    *,
    at: datetime,
    now: datetime,
    target: SlaTarget | None = None,
    value: str | None = None,
    reason: str | None = None,
    due_at: datetime | None = None,
    once_key: str | None = None,
) -> bool:
    """Insert one SLA event; with a ``once_key`` already taken, nothing (returns False)."""
    values = {
        "inquiry_id": inquiry.id,
        "target": target.value if target else None,
        "kind": kind.value,
        "at": at,
        "recorded_at": now,
        "reason": reason[:500] if reason else None,
        "value": value,
        "due_at": due_at,
        "once_key": once_key,
        "counted": kind is not SlaEventKind.BREACH,  # counted after commit, by a server
    }
    table = table_of(SlaEvent)
    if once_key is None:
        await session.execute(insert(table).values(**values))
        return True
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table).values(**values).on_conflict_do_nothing(index_elements=["once_key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
