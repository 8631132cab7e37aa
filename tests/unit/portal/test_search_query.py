"""Search query building: terms, wildcards, FTS expressions, limits and cursors (pure)."""

from __future__ import annotations

import pytest

from portal.domain.search import (
    MAX_QUERY,
    SearchError,
    decode_cursor,
    encode_cursor,
    escape_like,
    parse_limit,
    parse_query,
)


@pytest.mark.parametrize(
    ("raw", "terms"),
    [
        ("A1001", ("A1001",)),
        ("  ada@example.com ", ("ada@example.com",)),
        ("Ada   Lovelace", ("Ada Lovelace",)),
        ("+14155552671", ("+14155552671", "14155552671")),
        ("(415) 555-2671", ("(415) 555-2671", "4155552671")),
        ("415.555.2671", ("415.555.2671", "4155552671")),
        ("14155552671", ("14155552671",)),  # digits alone: one term
        ("+1", ("+1",)),  # too few digits for a phone term
        ("1Z999 AA1 0123", ("1Z999 AA1 0123", "1Z999AA10123")),
        ("100% Cotton", ("100% Cotton",)),
        ("snake_case", ("snake_case",)),
        ("tab\there", ("tab here",)),
        ("JD01\t46", ("JD01 46", "JD0146")),
        ("x\x1fy", ("x y",)),  # the field separator never reaches a term
    ],
)
def test_terms(raw: str, terms: tuple[str, ...]) -> None:
    query = parse_query(raw)
    assert query is not None
    assert query.terms == terms


@pytest.mark.parametrize("raw", [None, "", "   ", "\x00\x1f"])
def test_nothing_to_search(raw: str | None) -> None:
    assert parse_query(raw) is None


def test_long_queries_are_cut() -> None:
    query = parse_query("a" * 1000)
    assert query is not None and len(query.text) == MAX_QUERY


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada", '"ada"'),
        ('say "hi"', '"say ""hi"""'),
        ("+14155552671", '"+14155552671" OR "14155552671"'),
        ("100%", '"100%"'),
    ],
)
def test_fts_match_quotes_every_term(raw: str, expected: str) -> None:
    query = parse_query(raw)
    assert query is not None and query.fts_match() == expected


@pytest.mark.parametrize(
    ("raw", "patterns"),
    [
        ("100%", ["%100\\%%"]),
        ("a_b", ["%a\\_b%"]),
        ("back\\slash", ["%back\\\\slash%"]),
        ("ab", ["%ab%"]),
    ],
)
def test_like_patterns_make_wildcards_literal(raw: str, patterns: list[str]) -> None:
    query = parse_query(raw)
    assert query is not None and query.like_patterns() == patterns


@pytest.mark.parametrize(
    ("raw", "indexed"), [("ab", False), ("abc", True), ("+1", False), ("+1 41", True)]
)
def test_short_terms_are_not_indexed(raw: str, indexed: bool) -> None:
    query = parse_query(raw)
    assert query is not None and query.indexed is indexed


def test_escape_like() -> None:
    assert escape_like("%_\\") == "\\%\\_\\\\"


@pytest.mark.parametrize(("raw", "limit"), [(None, 20), ("", 20), ("1", 1), ("100", 100)])
def test_limit(raw: str | None, limit: int) -> None:
    assert parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "101", "-1", "x", "1.5"])
def test_bad_limit(raw: str) -> None:
    with pytest.raises(SearchError, match="limit"):
        parse_limit(raw)


@pytest.mark.parametrize("order_id", [1, 42, 10**9])
def test_cursor_round_trip(order_id: int) -> None:
    cursor = encode_cursor(order_id)
    assert "=" not in cursor and decode_cursor(cursor) == order_id


@pytest.mark.parametrize("raw", ["!!", "eDE", "bw", "b3g"])
def test_bad_cursor(raw: str) -> None:
    with pytest.raises(SearchError, match="cursor"):
        decode_cursor(raw)


def test_no_cursor() -> None:
    assert decode_cursor(None) is None and decode_cursor("") is None
