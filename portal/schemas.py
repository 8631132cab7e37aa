"""API input models (v1). The OpenAPI document is generated from these same models."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carriers.status import ReasonCode

from .notify.wording import ALTERNATIVE_WORDS

ORDER_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ALTERNATIVES = tuple(ALTERNATIVE_WORDS["en"])


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def normalise_email(value: str) -> str:
    """Syntax check only (no DNS): accepted addresses are kept as the customer gave them."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "must be an international number in E.164 form, e.g. +14155552671"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class CustomerIn(_Input):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320, description="the customer's email address")
    phone: str | None = Field(default=None, max_length=32, description="E.164, e.g. +14155552671")
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    timezone: str = Field(default="UTC", max_length=64, description="an IANA zone name")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else normalise_phone(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class ItemIn(_Input):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10_000)


class OrderCreate(_Input):
    order_number: str | None = Field(default=None, pattern=ORDER_NUMBER_PATTERN)
    customer: CustomerIn
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    promised_ship_by: date = Field(description="the date the shop promised to ship by")
    promised_deliver_by: date = Field(description="the date the shop promised delivery by")

    @field_validator("items")
    @classmethod
    def _unique_skus(cls, items: list[ItemIn]) -> list[ItemIn]:
        seen: set[str] = set()
        for item in items:
            if item.sku in seen:
                raise ValueError(f"sku {item.sku!r} appears twice; give one line per sku")
            seen.add(item.sku)
        return items

    @model_validator(mode="after")
    def _dates_in_order(self) -> OrderCreate:
        if self.promised_deliver_by < self.promised_ship_by:
            raise ValueError("promised_deliver_by is before promised_ship_by")
        return self


class StatusChange(_Input):
    status: Annotated[str, Field(pattern=r"^(processing|packed|cancelled)$")]
    note: str | None = Field(default=None, max_length=1000)


class ShipmentItemIn(_Input):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000)


class ShipmentCreate(_Input):
    carrier: str = Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")
    tracking_number: str = Field(pattern=r"^[A-Za-z0-9-]{4,64}$")
    items: list[ShipmentItemIn] | None = Field(
        default=None, description="omit to ship every item not yet shipped"
    )
    estimated_delivery: date | None = None

    @field_validator("carrier")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class DelayCreate(_Input):
    reason_code: ReasonCode
    message: str = Field(min_length=1, max_length=1000)
    new_estimated_delivery: date | None = None
    compensation: str | None = Field(default=None, max_length=500)
    alternatives: list[str] = Field(default_factory=list, max_length=len(ALTERNATIVES))

    @field_validator("alternatives")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in ALTERNATIVES:
                raise ValueError(
                    f"unknown alternative {value!r}; choose from {', '.join(ALTERNATIVES)}"
                )
        return list(dict.fromkeys(values))


class LinkCreate(_Input):
    expires_in_days: int | None = Field(default=30, ge=1, le=366)


ORDER_NUMBER_RE = re.compile(ORDER_NUMBER_PATTERN)
