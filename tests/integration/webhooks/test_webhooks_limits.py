"""Size, media type and carrier checks come first, answer JSON errors and change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from portal.models import WebhookReceipt
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import deliver, generic_body, sign
from tests.integration.webhooks.conftest import Shipped

LIMIT = 256 * 1024


async def receipts(portal: Portal) -> int:
    async with portal.runtime.db.read() as session:
        return int((await session.execute(select(func.count(col(WebhookReceipt.id))))).scalar_one())


def padded(shipped: Shipped, size: int) -> bytes:
    """A valid generic event padded with whitespace to exactly ``size`` bytes."""
    body = generic_body(shipped.tracking_number, "in_transit", shipped.portal.clock(), "Sorted")
    assert len(body) < size
    return body[:-1] + b" " * (size - len(body)) + b"}"


def assert_json_error(answer: object, status: int, code: str) -> None:
    import httpx

    assert isinstance(answer, httpx.Response)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]


async def test_a_body_of_exactly_the_limit_is_accepted(portal: Portal, shipped: Shipped) -> None:
    body = padded(shipped, LIMIT)
    assert len(body) == LIMIT
    answer = await deliver(portal, "generic", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"


async def test_a_body_over_the_limit_is_413(portal: Portal, shipped: Shipped) -> None:
    body = padded(shipped, LIMIT + 1)
    answer = await deliver(portal, "generic", body)
    assert_json_error(answer, 413, "payload_too_large")
    assert await receipts(portal) == 0
    assert await shipped.checkpoints() == []


async def test_a_chunked_body_over_the_limit_is_413(portal: Portal, shipped: Shipped) -> None:
    body = padded(shipped, LIMIT + 4096)
    signed = sign(portal, "generic", body)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    answer = await portal.client.post(
        "/webhooks/generic",
        content=chunks(),
        headers={**signed.headers, "Content-Type": "application/json"},
    )
    assert answer.request.headers.get("content-length") is None
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert_json_error(answer, 413, "payload_too_large")
    assert await receipts(portal) == 0


@pytest.mark.parametrize("claimed", ["100", "not-a-number"])
async def test_a_lying_content_length_does_not_get_past_the_limit(
    portal: Portal, shipped: Shipped, claimed: str
) -> None:
    body = padded(shipped, LIMIT * 2)
    signed = sign(portal, "generic", body)
    answer = await portal.client.post(
        "/webhooks/generic",
        content=body,
        headers={**signed.headers, "Content-Type": "application/json", "Content-Length": claimed},
    )
    assert answer.request.headers["content-length"] == claimed
    assert_json_error(answer, 413, "payload_too_large")
    assert await receipts(portal) == 0


async def test_an_honest_content_length_over_the_limit_is_413_before_reading(
    portal: Portal,
) -> None:
    answer = await portal.client.post(
        "/webhooks/ups",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(LIMIT + 1)},
    )
    assert_json_error(answer, 413, "payload_too_large")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
)
async def test_a_body_that_is_not_json_is_415(
    portal: Portal, shipped: Shipped, content_type: str | None
) -> None:
    body = generic_body(shipped.tracking_number, "in_transit", portal.clock(), "Sorted")
    signed = sign(portal, "generic", body)
    headers = dict(signed.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = await portal.client.post("/webhooks/generic", content=body, headers=headers)
    assert_json_error(answer, 415, "unsupported_media_type")
    assert await receipts(portal) == 0
    assert await shipped.checkpoints() == []


async def test_json_with_a_charset_is_accepted(portal: Portal, shipped: Shipped) -> None:
    body = generic_body(shipped.tracking_number, "in_transit", portal.clock(), "Sorted")
    answer = await deliver(portal, "generic", body, content_type="application/json; charset=utf-8")
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("carrier", ["dhl", "EasyPost-v2"])
async def test_an_unknown_carrier_is_404(portal: Portal, carrier: str) -> None:
    answer = await portal.client.post(
        f"/webhooks/{carrier}", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert_json_error(answer, 404, "unknown_carrier")
    assert await receipts(portal) == 0


async def test_only_post_is_allowed(portal: Portal) -> None:
    answer = await portal.client.get("/webhooks/generic")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"]
