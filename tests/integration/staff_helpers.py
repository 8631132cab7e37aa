"""Signed-in console clients for integration tests (any feature's console tests can use these).

    async with staff_client(portal, role="admin") as admin:
        page = await admin.get("/support/staff")
        done = await admin.post_form("/support/staff", {"email": ...})   # csrf_token added

The fixtures ``agent`` and ``admin`` in tests/integration/conftest.py give one ready client.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from portal.models import StaffUser
from portal.security import hash_password
from tests.integration.conftest import Portal

STAFF_PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _CSRF.search(html)
    assert found is not None, "no csrf_token field in the page"
    return found.group(1)


async def create_staff_user(
    portal: Portal, email: str | None = None, role: str = "agent", password: str = STAFF_PASSWORD
) -> StaffUser:
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@shop.example"
    user = StaffUser(
        email=email.lower(),
        password_hash=hash_password(password),
        role=role,
        created_at=portal.clock(),
    )
    async with portal.runtime.db.write() as session:
        session.add(user)
    return user


class StaffClient:
    """An HTTP client with its own cookie jar, signed in as one staff user."""

    def __init__(self, client: httpx.AsyncClient, user: StaffUser, csrf_token: str) -> None:
        self.client = client
        self.user = user
        self.csrf_token = csrf_token

    @property
    def email(self) -> str:
        return self.user.email

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post_form(
        self, path: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST a form with this session's csrf_token added."""
        return await self.client.post(
            path, data={"csrf_token": self.csrf_token, **(data or {})}, **kwargs
        )


def anonymous_client(portal: Portal, address: str = "198.51.100.20") -> httpx.AsyncClient:
    """A fresh client (own cookies, own address) on the running app; close it after use."""
    transport = httpx.ASGITransport(app=portal.app, client=(address, 5100))
    base = portal.runtime.settings.base_url
    return httpx.AsyncClient(transport=transport, base_url=base)


async def login(
    client: httpx.AsyncClient, email: str, password: str, next_path: str | None = None
) -> httpx.Response:
    """Fill in and send the sign-in form as a browser would (the form's CSRF token included)."""
    form = await client.get("/support/login")
    data = {"email": email, "password": password, "csrf_token": csrf_in(form.text)}
    if next_path is not None:
        data["next"] = next_path
    return await client.post("/support/login", data=data)


@asynccontextmanager
async def staff_client(
    portal: Portal, role: str = "agent", email: str | None = None, address: str = "198.51.100.21"
) -> AsyncIterator[StaffClient]:
    """A new staff user of ``role``, signed in on a client of its own."""
    user = await create_staff_user(portal, email, role)
    async with anonymous_client(portal, address) as client:
        answer = await login(client, user.email, STAFF_PASSWORD)
        assert answer.status_code == 303, answer.text
        home = await client.get("/support")
        assert home.status_code == 200, home.text
        yield StaffClient(client, user, csrf_in(home.text))
