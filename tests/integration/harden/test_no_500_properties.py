"""Property test over HTTP against a real `portal serve`: no route answers 500 to anything a client
can send. Bodies are the API's own examples (from its OpenAPI document's routes) and real carrier
webhooks, mutated by Hypothesis; webhooks are signed validly after mutation, so every mutation
reaches the parser and the writer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import WEBHOOK_SECRET, PortalProcess
from tests.unit.carriers.carriers_fixtures import fixture_names, payload
from tests.webhook_sender import post_signed_sync, sign

SECRETS = {
    "easypost": "ep-secret",
    "aftership": "as-secret",
    "shippo": "shippo-token",
    "ups": "ups-credential",
    "fedex": "fedex-secret",
    "generic": WEBHOOK_SECRET,
}
NASTY = [
    "\x00",
    "\ud800",
    "\u202e\u200b",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n",
    "../../etc/passwd",
    "x" * 5000,
    "9" * 400,
    "１２３",
    "",
    " ",
    "2027-02-30",
    "-1",
    "1e309",
]
# What a URL can carry (an HTTP client cannot send a lone surrogate there).
URL_NASTY = [n for n in NASTY if n != "\ud800"]
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(NASTY)
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with some parts replaced, dropped or added."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue  # dropped
            out[key] = draw(json_values) if choice == 1 else draw(mutated(item, depth + 1))
        if draw(st.booleans()) and depth == 0:
            out[draw(st.text(max_size=10))] = draw(json_values)
        return out
    if isinstance(value, list):
        return [draw(mutated(item, depth + 1)) for item in value if draw(st.integers(0, 9))]
    return draw(json_values) if draw(st.integers(0, 3)) == 0 else value


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalProcess]:
    instance = tmp_path_factory.mktemp("no500") / "instance"
    env = {f"PORTAL_WEBHOOK_SECRET_{name.upper()}": s for name, s in SECRETS.items()}
    process = PortalProcess(instance, env)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def order(server: PortalProcess) -> dict[str, Any]:
    created = server.create_order("P" + uuid.uuid4().hex[:8].upper())
    number = created["order_number"]
    answer = server.api(
        "POST",
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "dhl", "tracking_number": "JD0001"},
    )
    assert answer.status_code == 201, answer.text
    return created


def examples(number: str) -> dict[str, dict[str, Any]]:
    today = datetime.now(UTC).date()
    return {
        "/api/v1/orders": {
            "order_number": "A" + uuid.uuid4().hex[:6],
            "customer": {"name": "Ada", "email": "ada@example.com", "phone": "+14155552671"},
            "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 2}],
            "promised_ship_by": (today + timedelta(days=2)).isoformat(),
            "promised_deliver_by": (today + timedelta(days=5)).isoformat(),
        },
        f"/api/v1/orders/{number}/status": {"status": "processing", "note": "n"},
        f"/api/v1/orders/{number}/shipments": {
            "carrier": "ups",
            "tracking_number": "1Z999AA10123456784",
        },
        f"/api/v1/orders/{number}/delays": {
            "reason_code": "weather",
            "message": "Snow",
            "new_estimated_delivery": (today + timedelta(days=6)).isoformat(),
            "compensation": "10%",
            "alternatives": ["pickup_point", "cancel"],
        },
        f"/api/v1/orders/{number}/links": {"expires_in_days": 30},
        f"/api/v1/orders/{number}/interactions": {
            "channel": "phone",
            "direction": "inbound",
            "outcome": "answered",
            "summary": "Asked about the parcel",
        },
        "/api/v1/inquiries": {
            "order_number": number,
            "channel": "web",
            "subject": "Where?",
            "message": "Where is it?",
            "priority": "normal",
        },
    }


def assert_no_500(answer: httpx.Response) -> None:
    assert answer.status_code < 500 or answer.status_code == 503, (
        answer.request.method,
        answer.request.url,
        answer.status_code,
        answer.text[:500],
    )
    if answer.status_code == 503:
        assert answer.json()["error"]["code"] == "database_busy"


def test_the_openapi_document_names_the_routes_exercised(server: PortalProcess) -> None:
    document = httpx.get(server.base_url + "/api/v1/openapi.json", timeout=10).json()
    posts = {
        p for p, ops in document["paths"].items() if "post" in ops and "requestBody" in ops["post"]
    }
    exercised = {p.replace("{order_number}", "X") for p in examples("X")}
    assert exercised <= {p.replace("{order_number}", "X") for p in posts}
    for ops in document["paths"].values():
        for op in ops.values():
            assert any(code.startswith("2") for code in op["responses"]), op
            for answer in op["responses"].values():
                assert "description" in answer


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_api_route_answers_500(
    server: PortalProcess, order: dict[str, Any], data: st.DataObject
) -> None:
    bodies = examples(order["order_number"])
    path = data.draw(st.sampled_from(sorted(bodies)))
    body = data.draw(mutated(bodies[path]))
    content = (
        json.dumps(body).encode()
        if data.draw(st.integers(0, 9))
        else data.draw(st.binary(max_size=200))
    )
    content_type = data.draw(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])
    )
    headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": content_type}
    if data.draw(st.booleans()):
        headers["Idempotency-Key"] = data.draw(st.sampled_from(["k1", "k2", "x" * 300, "a b"]))
    answer = httpx.post(server.base_url + path, content=content, headers=headers, timeout=20)
    assert_no_500(answer)
    target = data.draw(st.sampled_from([order["order_number"], *URL_NASTY[3:], "A" * 80]))
    suffix = data.draw(
        st.sampled_from(["", "/links", "/notifications", "/archive", "/interactions"])
    )
    got = httpx.get(
        f"{server.base_url}/api/v1/orders/{quote(target, safe='')}{suffix}",
        params={
            "q": data.draw(st.sampled_from(URL_NASTY)),
            "limit": data.draw(st.sampled_from(["1", "-5", "x", "99999"])),
        },
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=20,
    )
    assert_no_500(got)


WEBHOOK_FIXTURES = [(name, fixture) for name in sorted(SECRETS) for fixture in fixture_names(name)]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_signed_webhook_answers_500(
    server: PortalProcess, order: dict[str, Any], data: st.DataObject
) -> None:
    provider, fixture = data.draw(st.sampled_from(WEBHOOK_FIXTURES))
    original = json.loads(payload(provider, fixture))
    body = json.dumps(data.draw(mutated(original))).encode()
    if data.draw(st.integers(0, 14)) == 0:
        body = data.draw(st.binary(max_size=300))
    signed = sign(provider, body, SECRETS[provider], datetime.now(UTC))
    answer = post_signed_sync(server.base_url, provider, body, signed, timeout=20)
    assert_no_500(answer)
    assert answer.status_code in (200, 202, 400), answer.text[:300]


@pytest.mark.parametrize(
    "path", ["/t/" + "x" * 300, "/t/%00", "/t/%ED%A0%80", "/track", "/t/abc/unsubscribe"]
)
def test_pages_take_odd_input_without_500(server: PortalProcess, path: str) -> None:
    for method in ("GET", "POST"):
        answer = httpx.request(
            method,
            server.base_url + path,
            content=b"\x00\xff=%%&csrf_token=\x00",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert answer.status_code < 500, (method, path, answer.status_code)
