"""The inquiries' vocabulary: channels, states, priorities, SLA targets and their states.

Pure: enums only, defined once and imported by the tables' users, the API, the SLA clock and the
console templates.
"""

from __future__ import annotations

from enum import StrEnum


class InquiryChannel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"


class InquiryState(StrEnum):
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SlaTarget(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class TargetState(StrEnum):
    PENDING = "pending"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class SlaEventKind(StrEnum):
    """What an SLA event row records about one target (or, for PRIORITY, about the inquiry)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    MET = "met"
    BREACH = "breach"
    PRIORITY = "priority"  # the inquiry's priority changed (value: the new one)
    STATE = "state"  # the inquiry's state changed (value: the new one)
