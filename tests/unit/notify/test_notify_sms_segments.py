from __future__ import annotations

import pytest

from portal.notify.sms import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, segments


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        # extension characters cost two septets
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 80 + "a", "GSM-7", 161, 2),
        ("^{}\\[~]|€", "GSM-7", 18, 1),
        ("a" * 159 + "{", "GSM-7", 161, 2),
        # an escape sequence is never split: 152 + (€ moves on) 2 + 152 = 3 segments
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        # Spanish with ñ, é, ¿, ¡ stays GSM-7; á does not
        ("¿Señal? ¡Sí, café!", "UCS-2", 18, 1),
        ("¿Señor? ¡Ya, café!", "GSM-7", 18, 1),
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        # emoji are two UTF-16 code units
        ("😀", "UCS-2", 2, 1),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        # a surrogate pair is never split: 66 + (emoji moves on) 2 + 65 = 2 segments of 67
        ("á" * 66 + "😀" + "á" * 65, "UCS-2", 133, 2),
        ("á" * 66 + "😀" + "á" * 66, "UCS-2", 134, 3),
        # curly quotes are not GSM-7
        ("it\u2019s here", "UCS-2", 9, 1),
    ],
)
def test_segments(text: str, encoding: str, units: int, count: int) -> None:
    result = segments(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, count)


def test_alphabet_sizes() -> None:
    # GSM 03.38: 128 positions, one of them the escape; 10 extension characters used here
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_is_gsm7() -> None:
    assert is_gsm7("Order A1001: out for delivery. Details: https://x.example/t/abc")
    assert not is_gsm7("envío")
