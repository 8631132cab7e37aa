"""Hostile input: ``parse`` raises only ``PayloadError``, ``verify`` only ``SignatureError``."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers.base import ParsedWebhook, PayloadError, SignatureError
from carriers.registry import ADAPTERS
from tests.unit.carriers.carriers_fixtures import PAYLOADS, SECRET, WHSEC

NAMES = sorted(ADAPTERS)
FIXTURES = sorted(PAYLOADS.rglob("*.json"))
# No example database: the package is pure and the tests must not write into the work tree.
# CARRIERS_FUZZ_EXAMPLES raises the budget for a longer local campaign.
FUZZ = settings(
    max_examples=int(os.environ.get("CARRIERS_FUZZ_EXAMPLES", "100")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


# Real field names make random objects look enough like payloads to get past the first checks.
FIELD_NAMES = sorted({key for path in FIXTURES for key in _keys(json.loads(path.read_bytes()))})
PROBES = [
    "tracker.updated", "tracking_update", "edd_revise", "track_updated", "InTransit",
    "Exception_004", "TRANSIT", "delivered", "in_transit", "2027-03-02T08:15:00Z",
    "2027-03-02", "20270302", "141519", "X", "DE", "08", "-05:00",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(PROBES)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


def _parse_only_payload_errors(name: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        result = ADAPTERS[name].parse(body, headers)
    except PayloadError:
        return
    assert isinstance(result, ParsedWebhook)
    assert isinstance(result.dedupe_key, str) and result.dedupe_key
    for update in result.updates:
        assert update.occurred_at.utcoffset() is not None


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(body=st.binary(max_size=300))
def test_parse_arbitrary_bytes(name: str, body: bytes) -> None:
    _parse_only_payload_errors(name, body, {"webhook-id": "msg_1"})


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(value=json_values)
def test_parse_arbitrary_json(name: str, value: Any) -> None:
    _parse_only_payload_errors(name, json.dumps(value).encode(), {"webhook-id": "msg_1"})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(FIXTURES))
    document = json.loads(path.read_bytes())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from(_paths(document)))
        document = _replace(document, where, draw(json_values))
    return path.parent.name, json.dumps(document).encode()


@FUZZ
@given(case=mutated_fixtures())
def test_parse_mutated_fixtures(case: tuple[str, bytes]) -> None:
    # Realistic payloads with one to three subtrees swapped for junk reach the deep code paths.
    name, body = case
    _parse_only_payload_errors(name, body, {"webhook-id": "msg_1"})


HEADER_NAMES = [
    "X-Hmac-Signature", "aftership-hmac-sha256", "Shippo-Auth-Signature", "Shippo-Signature",
    "credential", "Authorization", "fdx-signature", "webhook-id", "webhook-timestamp",
    "webhook-signature",
]  # fmt: skip
header_values = (
    st.text(max_size=60)
    | st.sampled_from(["hmac-sha256-hex=", "Bearer ", "t=1804000000,v1=", "v1,", "1804000000"])
    | st.from_regex(r"(v1,[A-Za-z0-9+/=]{0,50} ?){1,3}", fullmatch=True)
    | st.from_regex(r"t=\d{1,14},v1=[0-9a-f]{0,64}", fullmatch=True)
)
headers = st.dictionaries(st.sampled_from(HEADER_NAMES) | st.text(max_size=10), header_values)
secrets = st.lists(st.text(max_size=20) | st.sampled_from([SECRET, WHSEC, "whsec_"]), max_size=3)
moments = st.datetimes(timezones=st.just(UTC)) | st.datetimes()


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(
    body=st.binary(max_size=200),
    headers=headers,
    query=st.dictionaries(st.sampled_from(["token"]) | st.text(max_size=5), st.text(max_size=20)),
    secrets=secrets,
    now=moments,
)
def test_verify_raises_only_signature_errors(
    name: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str],
    secrets: list[str],
    now: datetime,
) -> None:
    try:
        ADAPTERS[name].verify(body, headers, query, secrets, now)
    except SignatureError:
        return
    # Getting through by chance is only possible with a credential scheme compared verbatim.
    assert name in ("ups", "shippo")
