"""Console sign-in, sessions, CSRF and roles, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from portal.app import create_app
from portal.models import StaffUser
from tests.integration.conftest import Portal
from tests.integration.staff_helpers import (
    STAFF_PASSWORD,
    StaffClient,
    anonymous_client,
    create_staff_user,
    csrf_in,
    login,
)


async def test_sign_in_sets_a_fresh_http_only_session(portal: Portal) -> None:
    user = await create_staff_user(portal, "Agent.One@shop.example")
    async with anonymous_client(portal) as client:
        form = await client.get("/support/login")
        assert form.status_code == 200
        assert 'name="email"' in form.text and 'name="password"' in form.text
        assert ">Email<" in form.text and ">Password<" in form.text
        first = await login(client, "agent.one@shop.example", STAFF_PASSWORD)
        assert first.status_code == 303 and first.headers["location"] == "/support"
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("portal_session=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        home = await client.get("/support")
        assert home.status_code == 200
        assert user.email in home.text and 'action="/support/orders"' in home.text
        old = client.cookies["portal_session"]
        again = await login(client, user.email, STAFF_PASSWORD)
        assert again.status_code == 303
        assert client.cookies["portal_session"] != old  # a fresh id at every sign-in
    async with anonymous_client(portal) as stale:
        stale.cookies.set("portal_session", old)
        assert (await stale.get("/support")).status_code == 303


async def test_secure_cookie_on_an_https_base_url(portal: Portal) -> None:
    settings = replace(portal.runtime.settings, base_url="https://portal.example")
    app = create_app(settings, clock=portal.clock, dispatcher=False)
    await create_staff_user(portal, "secure@shop.example")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            answer = await login(client, "secure@shop.example", STAFF_PASSWORD)
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


async def test_wrong_email_and_wrong_password_get_the_same_answer(portal: Portal) -> None:
    await create_staff_user(portal, "known@shop.example")
    async with anonymous_client(portal) as client:
        wrong_password = await login(client, "known@shop.example", "not the password")
        wrong_email = await login(client, "unknown@shop.example", STAFF_PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert "portal_session" not in wrong_password.headers.get("set-cookie", "")

    def strip(text: str) -> str:
        # The email typed is echoed back into the form; the CSRF token is per page.
        text = text.replace("unknown@shop.example", "X").replace("known@shop.example", "X")
        return text.replace(csrf_in(text), "T")

    assert strip(wrong_password.text) == strip(wrong_email.text)
    assert "The email or password is not right." in wrong_email.text


async def test_lockout_counts_failures_from_every_address(portal: Portal) -> None:
    user = await create_staff_user(portal)
    async with (
        anonymous_client(portal, "192.0.2.1") as a,
        anonymous_client(portal, "192.0.2.2") as b,
    ):
        for client in (a, a, a, b, b):
            assert (await login(client, user.email, "wrong password!")).status_code == 401
        locked = await login(b, user.email, STAFF_PASSWORD)
        assert locked.status_code == 429
        assert 800 < int(locked.headers["retry-after"]) <= 900
        assert "portal_session" not in b.cookies
        assert (await login(a, user.email, STAFF_PASSWORD)).status_code == 429
        portal.clock.advance(minutes=15, seconds=1)
        assert (await login(a, user.email, STAFF_PASSWORD)).status_code == 303


async def test_console_posts_need_the_csrf_token(portal: Portal, agent: StaffClient) -> None:
    client = agent.client
    assert (await client.post("/support/logout")).status_code == 403
    assert (await client.post("/support/logout", data={"csrf_token": "x" * 64})).status_code == 403
    cross = await client.post(
        "/support/logout",
        data={"csrf_token": agent.csrf_token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert (await agent.get("/support")).status_code == 200  # nothing changed
    out = await agent.post_form("/support/logout")
    assert out.status_code == 303 and out.headers["location"] == "/support/login"
    assert (await agent.get("/support")).status_code == 303


async def test_another_sessions_csrf_token_is_refused(portal: Portal, agent: StaffClient) -> None:
    from tests.integration.staff_helpers import staff_client

    async with staff_client(portal, address="192.0.2.9") as other:
        refused = await other.client.post("/support/logout", data={"csrf_token": agent.csrf_token})
        assert refused.status_code == 403


async def test_login_form_needs_its_csrf_token(portal: Portal) -> None:
    user = await create_staff_user(portal)
    async with anonymous_client(portal) as client:
        await client.get("/support/login")
        answer = await client.post(
            "/support/login", data={"email": user.email, "password": STAFF_PASSWORD}
        )
        assert answer.status_code == 403
        assert "portal_session" not in client.cookies


async def test_no_session_redirects_to_login_and_htmx_gets_401(portal: Portal) -> None:
    async with anonymous_client(portal) as client:
        page = await client.get("/support/staff?x=1")
        assert page.status_code == 303
        assert page.headers["location"] == "/support/login?next=/support/staff%3Fx%3D1"
        htmx = await client.get("/support", headers={"HX-Request": "true"})
        assert htmx.status_code == 401


async def test_next_is_followed_only_inside_the_console(portal: Portal) -> None:
    user = await create_staff_user(portal)
    async with anonymous_client(portal) as client:
        inside = await login(client, user.email, STAFF_PASSWORD, "/support/orders?q=ada")
        assert inside.headers["location"] == "/support/orders?q=ada"
        for target in ("//evil.example/", "https://evil.example/support", "/t/abc", "/\\evil"):
            answer = await login(client, user.email, STAFF_PASSWORD, target)
            assert answer.headers["location"] == "/support", target


async def test_session_expires_after_twelve_idle_hours(portal: Portal, agent: StaffClient) -> None:
    portal.clock.advance(hours=7)
    assert (await agent.get("/support")).status_code == 200
    portal.clock.advance(hours=7)  # 14 h after sign-in, 7 h after the last request
    assert (await agent.get("/support")).status_code == 200
    portal.clock.advance(hours=12)
    answer = await agent.get("/support")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/support/login")


async def test_a_disabled_user_is_cut_off_at_the_next_request(
    portal: Portal, agent: StaffClient
) -> None:
    async with portal.runtime.db.write() as session:
        await session.execute(
            update(StaffUser)
            .where(col(StaffUser.email) == agent.email)
            .values(disabled_at=datetime.now(UTC))
        )
    assert (await agent.get("/support")).status_code == 303
    async with anonymous_client(portal) as client:
        assert (await login(client, agent.email, STAFF_PASSWORD)).status_code == 401


async def test_an_agent_is_refused_an_admin_page(agent: StaffClient, admin: StaffClient) -> None:
    assert (await agent.get("/support/staff")).status_code == 403
    listing = await admin.get("/support/staff")
    assert listing.status_code == 200 and agent.email in listing.text
    assert 'href="/support/staff"' in listing.text
    assert 'href="/support/staff"' not in (await agent.get("/support")).text


async def test_share_token_and_api_key_never_open_the_console(portal: Portal) -> None:
    order = await portal.create_order()
    token = order["tracking_url"].rsplit("/", 1)[1]
    async with anonymous_client(portal) as client:
        client.cookies.set("portal_session", token)
        assert (await client.get("/support")).status_code == 303
        client.cookies.clear()
        keyed = await client.get("/support", headers=portal.auth)
        assert keyed.status_code == 303
        keyed_htmx = await client.get("/support", headers={**portal.auth, "HX-Request": "true"})
        assert keyed_htmx.status_code == 401


async def test_sign_in_attempts_are_limited_per_address(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime is frozen; its limiter is a fresh one per app, so lowering it is local.
    monkeypatch.setattr(portal.runtime.login_limiter, "limit", 3)
    user = await create_staff_user(portal)
    async with (
        anonymous_client(portal, "192.0.2.77") as a,
        anonymous_client(portal, "192.0.2.78") as b,
    ):
        for n in range(3):
            assert (await login(a, f"spray{n}@shop.example", "guess guess")).status_code == 401
        limited = await login(a, user.email, STAFF_PASSWORD)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "300"
        assert (await login(b, user.email, STAFF_PASSWORD)).status_code == 303
        portal.clock.advance(seconds=301)
        assert (await login(a, user.email, STAFF_PASSWORD)).status_code == 303


async def test_old_failures_are_forgotten(portal: Portal) -> None:
    from sqlalchemy import func, select

    from portal.models_staff import StaffLoginFailure

    async with anonymous_client(portal) as client:
        await login(client, "old@shop.example", "wrong password")
        portal.clock.advance(minutes=31)
        await login(client, "new@shop.example", "wrong password")
    async with portal.runtime.db.read() as session:
        emails = (await session.execute(select(StaffLoginFailure.email))).scalars().all()
        total = (await session.execute(select(func.count()).select_from(StaffLoginFailure))).one()
    assert list(emails) == ["new@shop.example"] and total[0] == 1
