"""No share-link token in logs (an error's included), no Referer, links from PORTAL_BASE_URL."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx
import pytest

from portal.web import pages as pages_module
from tests.integration.conftest import Portal, order_body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/track"),
        ("GET", "/nowhere"),
        ("GET", "/t/not-a-real-token-at-all"),
        ("POST", "/webhooks/generic"),
        ("GET", "/api/v1/orders/A1"),
    ],
)
async def test_every_response_says_no_referrer(portal: Portal, method: str, path: str) -> None:
    answer = await portal.client.request(method, path)
    assert answer.headers["referrer-policy"] == "no-referrer", (path, answer.status_code)


async def test_a_500_on_a_tracking_page_logs_no_token(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    order = await portal.create_order()
    path = urlsplit(order["tracking_url"]).path
    token = path.rsplit("/", 1)[1]

    async def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError(f"could not render {path}")

    monkeypatch.setattr(pages_module, "load_order_view", broken)
    transport = httpx.ASGITransport(app=portal.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        with caplog.at_level(logging.DEBUG):
            answer = await client.get(path)
    assert answer.status_code == 500
    assert token not in answer.text
    assert caplog.records, "the error was logged"
    assert "unhandled error on GET /t/<token>" in caplog.text
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in (record.exc_text or "")


async def test_links_sent_to_customers_ignore_a_forged_host(portal: Portal) -> None:
    base = portal.runtime.settings.base_url
    body = order_body(order_number="FORGED1")
    answer = await portal.client.post(
        "/api/v1/orders",
        json=body,
        headers={
            **portal.auth,
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "host=evil.example",
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["tracking_url"].startswith(base + "/t/")
    notices = (await portal.get("/api/v1/orders/FORGED1/notifications")).json()["notifications"]
    assert notices
    for notice in notices:
        assert "evil.example" not in notice["body"] and "evil.example" not in notice["subject"]
    link = await portal.client.post(
        "/api/v1/orders/FORGED1/links", json={}, headers={**portal.auth, "Host": "evil.example"}
    )
    assert link.status_code == 201 and link.json()["url"].startswith(base + "/t/")
