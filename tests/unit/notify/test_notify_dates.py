from __future__ import annotations

from datetime import date

import pytest

from portal.notify.dates import format_date
from portal.notify.wording import alternative_words, reason_words, status_words


@pytest.mark.parametrize(
    ("value", "locale", "style", "expected"),
    [
        (date(2027, 3, 4), "en", "long", "Thursday, 4 March 2027"),
        (date(2027, 3, 4), "es", "long", "jueves, 4 de marzo de 2027"),
        (date(2027, 3, 3), "es", "long", "miércoles, 3 de marzo de 2027"),
        (date(2027, 3, 6), "es", "long", "sábado, 6 de marzo de 2027"),
        (date(2027, 12, 31), "en", "long", "Friday, 31 December 2027"),
        (date(2028, 1, 1), "es", "long", "sábado, 1 de enero de 2028"),
        (date(2027, 3, 4), "en", "short", "Thu 4 Mar"),
        (date(2027, 3, 4), "es", "short", "4 de marzo"),
        (date(2027, 9, 19), "es", "short", "19 de septiembre"),
        # regional tags use their language; unknown locales read English
        (date(2027, 3, 4), "es-MX", "long", "jueves, 4 de marzo de 2027"),
        (date(2027, 3, 4), "es_ES", "short", "4 de marzo"),
        (date(2027, 3, 4), "fr", "long", "Thursday, 4 March 2027"),
        (date(2027, 3, 4), None, "long", "Thursday, 4 March 2027"),
    ],
)
def test_format_date(value: date, locale: str | None, style: str, expected: str) -> None:
    assert format_date(value, locale, style) == expected  # type: ignore[arg-type]


def test_every_weekday_and_month_has_a_name() -> None:
    for month in range(1, 13):
        for locale in ("en", "es"):
            assert format_date(date(2027, month, 1), locale)
    assert {format_date(date(2027, 3, d), "es").split(",")[0] for d in range(1, 8)} == {
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    }


def test_words() -> None:
    assert status_words("out_for_delivery", "en") == "out for delivery"
    assert status_words("out_for_delivery", "es") == "en reparto"
    assert reason_words("weather", "es") == "mal tiempo"
    assert reason_words("a-new-carrier-code", "en") == "an unexpected problem"
    assert alternative_words("pickup_point", "es") == "recoger el paquete en un punto de recogida"
    assert alternative_words("Free gift wrap", "es") == "Free gift wrap"
    with pytest.raises(KeyError):
        status_words("teleported", "en")
