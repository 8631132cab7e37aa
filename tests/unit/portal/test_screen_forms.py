"""The order screen's forms read into values, or every problem named (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.domain.interactions import Direction, InteractionChannel, InteractionOutcome
from portal.errors import ValidationFailed
from portal.services.screen.forms import read_call, read_delay, read_interaction

GOOD = {"channel": "phone", "direction": "inbound", "outcome": "answered", "summary": " Hi "}


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [d["loc"][0] for d in exc.value.details]


def test_an_interaction_with_only_what_is_required() -> None:
    form = read_interaction(GOOD, "UTC")
    assert (form.channel, form.direction, form.outcome) == (
        InteractionChannel.PHONE,
        Direction.INBOUND,
        InteractionOutcome.ANSWERED,
    )
    assert form.summary == "Hi" and form.duration_s is None and form.inquiry_id is None
    assert form.callback_at is None


def test_an_interaction_with_everything() -> None:
    fields = {**GOOD, "duration_s": "90", "inquiry_id": "7", "callback_at": "2027-03-02T09:30"}
    form = read_interaction(fields, "Europe/London")
    assert form.duration_s == 90 and form.inquiry_id == 7
    assert form.callback_at == datetime(2027, 3, 2, 9, 30, tzinfo=UTC)  # GMT in March
    summer = read_interaction({**fields, "callback_at": "2027-07-02T09:30"}, "Europe/London")
    assert summer.callback_at == datetime(2027, 7, 2, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"channel": "fax"}, ["channel"]),
        ({"direction": "sideways", "outcome": ""}, ["direction", "outcome"]),
        ({"summary": "   "}, ["summary"]),
        ({"summary": "x" * 2001}, ["summary"]),
        ({"duration_s": "-1"}, ["duration_s"]),
        ({"duration_s": "90000"}, ["duration_s"]),
        ({"duration_s": "1.5", "inquiry_id": "0"}, ["duration_s", "inquiry_id"]),
        ({"callback_at": "tomorrow"}, ["callback_at"]),
        ({"callback_at": "2027-03-02T09:30+01:00"}, ["callback_at"]),
    ],
)
def test_every_bad_interaction_field_is_named(changes: dict[str, str], bad: list[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_interaction({**GOOD, **changes}, "UTC")
    assert _fields(refused) == bad


def test_a_call_form() -> None:
    call = read_call({"outcome": "no_answer", "reschedule_at": "2027-03-02T18:00"}, "Etc/GMT-3")
    assert call.outcome is InteractionOutcome.NO_ANSWER and call.note == ""
    assert call.reschedule_at == datetime(2027, 3, 2, 15, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        read_call({"outcome": "maybe", "duration_s": "x"}, "UTC")
    assert _fields(refused) == ["outcome", "duration_s"]


def test_a_delay_form_is_the_api_delay() -> None:
    fields = {
        "reason_code": "weather",
        "message": " Snow ",
        "new_estimated_delivery": "2027-03-06",
        "compensation": "",
    }
    delay = read_delay(fields, ["pickup_point", "pickup_point", "cancel"])
    assert delay.reason_code.value == "weather" and delay.message == "Snow"
    assert delay.new_estimated_delivery == date(2027, 3, 6) and delay.compensation is None
    assert delay.alternatives == ["pickup_point", "cancel"]
    with pytest.raises(ValidationFailed) as refused:
        read_delay({"reason_code": "nonsense", "message": ""}, ["teleport"])
    assert {"reason_code", "message", "alternatives"} <= set(_fields(refused))
