"""Staff accounts for browser tests: create one with the CLI, sign in through the login page."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from tests.e2e.conftest import PortalProcess

STAFF_PASSWORD = "correct horse battery staple"


def create_staff_user(server: PortalProcess, role: str = "agent", email: str | None = None) -> str:
    """`portal user create EMAIL --role ROLE --password-stdin` on the server's instance."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@shop.example"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal",
            "user",
            "create",
            email,
            "--role",
            role,
            "--password-stdin",
        ],
        env=server.env,
        input=STAFF_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return email


def sign_in(page: Any, server: PortalProcess, email: str, password: str = STAFF_PASSWORD) -> None:
    """Sign in on /support/login as a person would, and wait for the console home."""
    page.goto(server.base_url + "/support/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.base_url + "/support")
