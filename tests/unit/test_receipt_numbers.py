"""Which tracking numbers a webhook receipt is about."""

from __future__ import annotations

from portal.domain.receipt_numbers import (
    MAX_MENTIONED,
    UNINDEXED,
    mentioned_numbers,
    named_numbers,
    receipt_numbers,
)


def test_named_numbers_read_the_column() -> None:
    assert named_numbers(",JD0001,1Z-99,") == ("JD0001", "1Z-99")
    assert named_numbers("") == ()


def test_mentioned_numbers_are_words_shaped_like_tracking_numbers() -> None:
    body = '{"tracking_number": "JD014600003828", "n": "1Z-999-AA", "x": "abc", "é": 7}'
    assert mentioned_numbers(body) == {"tracking", "number", "JD014600003828", "1Z-999-AA"}
    assert mentioned_numbers("A" * 65) == frozenset()  # longer than any tracking number


def test_a_parsed_receipt_is_about_the_numbers_it_names() -> None:
    assert receipt_numbers("applied", ",B1234,A1234,", "C1234") == ("A1234", "B1234")
    assert receipt_numbers("duplicate", "", '{"n": "C1234"}') == ()


def test_a_dead_letter_is_about_the_words_of_its_body_up_to_a_bound() -> None:
    assert receipt_numbers("dead_letter", "", "JD0001 and JD0002") == ("JD0001", "JD0002")
    within = " ".join(f"w{n:04d}" for n in range(MAX_MENTIONED))
    assert len(receipt_numbers("dead_letter", "", within)) == MAX_MENTIONED
    assert receipt_numbers("dead_letter", "", within + " w9999") == (UNINDEXED,)
