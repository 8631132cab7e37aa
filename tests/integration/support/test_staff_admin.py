"""`/support/staff` for admins and one-time set-password links, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import StaffUser
from portal.models_staff import PasswordReset
from tests.integration.conftest import Portal
from tests.integration.staff_helpers import (
    STAFF_PASSWORD,
    StaffClient,
    anonymous_client,
    csrf_in,
    login,
)

NEW_PASSWORD = "a brand new passphrase"
_LINK = re.compile(r'value="(http://[^"]+/support/reset/([^"]+))"')


def _link_in(html: str) -> tuple[str, str]:
    found = _LINK.search(html)
    assert found is not None, "no one-time link in the page"
    return "/support/reset/" + found.group(2), found.group(2)


async def _set_password(portal: Portal, path: str, password: str, repeat: str | None = None) -> int:
    async with anonymous_client(portal, "192.0.2.40") as client:
        form = await client.get(path)
        if form.status_code != 200:
            return form.status_code
        assert form.headers["referrer-policy"] == "no-referrer"
        data = {
            "csrf_token": csrf_in(form.text),
            "password": password,
            "repeat": repeat or password,
        }
        return (await client.post(path, data=data)).status_code


async def test_admin_creates_a_user_who_sets_a_password_once(
    portal: Portal, admin: StaffClient
) -> None:
    made = await admin.post_form(
        "/support/staff", {"email": "New.Agent@shop.example", "role": "agent"}
    )
    assert made.status_code == 201, made.text
    path, token = _link_in(made.text)
    async with portal.runtime.db.read() as session:
        stored = list((await session.execute(select(PasswordReset))).scalars())
        user = (
            await session.execute(
                select(StaffUser).where(StaffUser.email == "new.agent@shop.example")
            )
        ).scalar_one()
    assert user.role == "agent"
    assert all(token not in r.token_hash for r in stored)  # only the hash is kept
    assert token not in (await admin.get("/support/staff")).text  # shown once
    assert await _set_password(portal, path, NEW_PASSWORD, "something else") == 422
    assert await _set_password(portal, path, "short") == 422
    assert await _set_password(portal, path, NEW_PASSWORD) == 303
    assert await _set_password(portal, path, "another passphrase") == 404  # single use
    async with anonymous_client(portal) as client:
        assert (await login(client, "new.agent@shop.example", NEW_PASSWORD)).status_code == 303


async def test_create_refuses_bad_input(portal: Portal, admin: StaffClient) -> None:
    bad_email = await admin.post_form("/support/staff", {"email": "not-an-email", "role": "agent"})
    assert bad_email.status_code == 422
    bad_role = await admin.post_form("/support/staff", {"email": "x@shop.example", "role": "root"})
    assert bad_role.status_code == 422
    twice = await admin.post_form("/support/staff", {"email": admin.email, "role": "agent"})
    assert twice.status_code == 409 and "already" in twice.text
    no_csrf = await admin.client.post(
        "/support/staff", data={"email": "y@shop.example", "role": "agent"}
    )
    assert no_csrf.status_code == 403
    async with portal.runtime.db.read() as session:
        emails = set((await session.execute(select(StaffUser.email))).scalars())
    assert not emails & {"x@shop.example", "y@shop.example"}


async def test_agents_cannot_manage_staff(agent: StaffClient) -> None:
    assert (await agent.get("/support/staff")).status_code == 403
    made = await agent.post_form("/support/staff", {"email": "z@shop.example", "role": "admin"})
    assert made.status_code == 403
    assert (await agent.post_form(f"/support/staff/{agent.user.id}/reset")).status_code == 403


async def test_disable_cuts_the_user_off(
    portal: Portal, admin: StaffClient, agent: StaffClient
) -> None:
    assert (await agent.get("/support")).status_code == 200
    done = await admin.post_form(f"/support/staff/{agent.user.id}/disable")
    assert done.status_code == 303
    assert (await agent.get("/support")).status_code == 303
    async with anonymous_client(portal) as client:
        assert (await login(client, agent.email, STAFF_PASSWORD)).status_code == 401
    listing = await admin.get("/support/staff")
    assert "disabled" in listing.text
    itself = await admin.post_form(f"/support/staff/{admin.user.id}/disable")
    assert itself.status_code == 409
    assert (await admin.post_form("/support/staff/999999/disable")).status_code == 404


async def test_reset_link_replaces_older_ones_and_expires(
    portal: Portal, admin: StaffClient, agent: StaffClient
) -> None:
    first, _ = _link_in((await admin.post_form(f"/support/staff/{agent.user.id}/reset")).text)
    second, _ = _link_in((await admin.post_form(f"/support/staff/{agent.user.id}/reset")).text)
    assert await _set_password(portal, first, NEW_PASSWORD) == 404
    assert (await agent.get("/support")).status_code == 200  # asking for a reset ends nothing
    assert await _set_password(portal, second, NEW_PASSWORD) == 303
    assert (await agent.get("/support")).status_code == 303  # using it ends open sessions
    third, _ = _link_in((await admin.post_form(f"/support/staff/{agent.user.id}/reset")).text)
    portal.clock.advance(hours=24, seconds=1)
    assert await _set_password(portal, third, "yet another passphrase") == 404
