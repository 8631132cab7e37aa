"""API input models for the CRM routes (interactions). The OpenAPI document uses them too."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field, field_validator

from .domain.interactions import Direction, InteractionChannel, InteractionOutcome
from .schemas import _Input, normalise_email


class InteractionCreate(_Input):
    """One contact about an order, logged by the shop's CRM (DESIGN.md API additions)."""

    channel: InteractionChannel
    direction: Direction
    outcome: InteractionOutcome
    summary: str = Field(min_length=1, max_length=4000)
    duration_s: int | None = Field(default=None, ge=0, le=86_400)
    staff: str | None = Field(
        default=None,
        max_length=320,
        description="a staff user's email; the API key's name is recorded when absent",
    )
    inquiry_id: int | None = Field(default=None, ge=1)
    occurred_at: AwareDatetime | None = Field(default=None, description="defaults to now")

    @field_validator("staff")
    @classmethod
    def _staff_email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value).lower()

    def occurred(self, now: datetime) -> datetime:
        return self.occurred_at or now
