"""The CRM log's vocabulary: how a contact about an order happened and how it ended.

Pure: enums only, imported by the tables' users, the API schemas and the console templates.
"""

from __future__ import annotations

from enum import StrEnum


class InteractionChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    WEB = "web"
    IN_PERSON = "in_person"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionOutcome(StrEnum):
    ANSWERED = "answered"
    LEFT_MESSAGE = "left_message"
    NO_ANSWER = "no_answer"
    CALLBACK_REQUESTED = "callback_requested"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class InteractionAction(StrEnum):
    """What recorded an interaction: a person logging a contact, or an action that logs itself."""

    LOGGED = "logged"  # typed in by staff or posted by the shop's CRM
    DELAY_OPENED = "delay_opened"
    LINK_CREATED = "link_created"
    LINK_REVOKED = "link_revoked"
    NOTIFICATION_RESENT = "notification_resent"
    CALL_COMPLETED = "call_completed"
    INQUIRY_MESSAGE = "inquiry_message"
    INQUIRY_STATE = "inquiry_state"
    INQUIRY_LINKED = "inquiry_linked"
    DELAY_CHOICE = "delay_choice"
