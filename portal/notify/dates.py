"""Dates written out for a customer's locale, without Babel: a few names and word orders.

English uses the day-month-year order the shop prints ("Thursday, 4 March 2027"); Spanish the
usual "jueves, 4 de marzo de 2027". Short forms are for SMS, where every character counts and
GSM-7 lacks á, í, ó and ú (so no "miércoles" or "sábado"): "Thu 4 Mar" and "4 de marzo".
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from portal.notify.locales import resolve_locale

Style = Literal["long", "short"]

_WEEKDAYS: dict[str, list[str]] = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
_MONTHS: dict[str, list[str]] = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


def format_date(value: date, locale: str | None, style: Style = "long") -> str:
    """`value` written for `locale` (unknown locales get English); `style` long or short."""
    language = resolve_locale(locale, _WEEKDAYS)
    weekday = _WEEKDAYS[language][value.weekday()]
    month = _MONTHS[language][value.month - 1]
    if language == "es":
        if style == "short":
            return f"{value.day} de {month}"
        return f"{weekday}, {value.day} de {month} de {value.year}"
    if style == "short":
        return f"{weekday[:3]} {value.day} {month[:3]}"
    return f"{weekday}, {value.day} {month} {value.year}"
