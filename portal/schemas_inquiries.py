"""API input models for inquiries (v1); the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .domain.inquiries import InquiryChannel, InquiryState, Priority
from .schemas import ORDER_NUMBER_PATTERN, _Input, normalise_email

MAX_TEXT = 20_000


class InquiryCreate(_Input):
    """A customer's question recorded by the shop (or a phone call / chat logged by support).

    Without ``order_number`` the inquiry is unmatched (give ``customer_email`` then)."""

    order_number: str | None = Field(default=None, pattern=ORDER_NUMBER_PATTERN)
    channel: InquiryChannel = InquiryChannel.WEB
    subject: str = Field(default="", max_length=200)
    message: str = Field(min_length=1, max_length=MAX_TEXT)
    priority: Priority | None = None
    customer_email: str | None = Field(default=None, max_length=320)
    reply_by_sms: bool = False

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None


class InquiryMessageCreate(_Input):
    """``outbound``: an agent's reply, sent to the customer through the outbox (``via``
    ``outbox``; for an unmatched inquiry, to its sender's address), or said on the phone or
    in a chat already (``phone``, ``chat``).
    ``inbound``: a customer's message the shop received."""

    direction: Literal["inbound", "outbound"]
    body: str = Field(min_length=1, max_length=MAX_TEXT)
    staff: str | None = Field(default=None, max_length=320)
    via: Literal["outbox", "phone", "chat"] = "outbox"
    channel: InquiryChannel = InquiryChannel.EMAIL


class InquiryStateChange(_Input):
    state: InquiryState


class InquiryLink(_Input):
    """Link an unmatched inquiry to an order. When the inquiry's sender is not the order's
    customer the answer is 409 ``sender_mismatch`` unless ``confirm_sender`` is true."""

    order_number: str = Field(pattern=ORDER_NUMBER_PATTERN)
    confirm_sender: bool = False
    staff: str | None = Field(default=None, max_length=320)


class InquiryAssign(_Input):
    """``assignee``: an active staff user's email; null assigns the inquiry to nobody."""

    assignee: str | None = Field(default=None, max_length=320)
