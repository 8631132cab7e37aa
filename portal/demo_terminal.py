"""`portal demo` for a person at a terminal: a demo agent to sign in with, and a quiet screen.

The demo prints what a newcomer needs (tracking links, the console login) and then one short
line per simulated step; the portal's own log and the per-request access log go to files in the
instance folder (``demo.log``, ``access.log``), named on screen and in the README.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from .db import Database
from .domain.staff import Role
from .models import StaffUser
from .security import hash_password
from .settings import Settings

DEMO_AGENT_EMAIL = "agent@demo.example"
QUIET_LIBRARIES = ("alembic", "httpx", "httpcore", "aiosqlite", "asyncio", "uvicorn.error")


def quiet_logging(instance_dir: Path) -> tuple[Path, Path]:
    """Keep the terminal for the demo's own lines: logs to files, warnings still on screen.

    Returns the two log files (the portal's log, the access log).
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    portal_log, access_log = instance_dir / "demo.log", instance_dir / "access.log"
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(logging.WARNING)
    to_file = logging.FileHandler(portal_log, encoding="utf-8")
    to_file.setFormatter(fmt)
    root.addHandler(to_file)
    root.setLevel(logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("portal.access")
    access.propagate = False
    access_file = logging.FileHandler(access_log, encoding="utf-8")
    access_file.setFormatter(fmt)
    access.addHandler(access_file)
    return portal_log, access_log


async def ensure_demo_agent(db: Database, now: datetime | None = None) -> tuple[str, str]:
    """The demo's agent account with a fresh password each run: (email, password)."""
    password = secrets.token_urlsafe(12)
    async with db.write() as session:
        user = (
            await session.execute(select(StaffUser).where(col(StaffUser.email) == DEMO_AGENT_EMAIL))
        ).scalar_one_or_none()
        if user is None:
            user = StaffUser(
                email=DEMO_AGENT_EMAIL,
                password_hash="",
                role=Role.AGENT.value,
                created_at=now or datetime.now(UTC),
            )
        user.password_hash = hash_password(password)
        user.disabled_at = None
        session.add(user)
    return DEMO_AGENT_EMAIL, password


def summary(
    settings: Settings,
    orders: Sequence[tuple[str, str]],
    login: tuple[str, str],
    logs: tuple[Path, Path],
) -> str:
    """The block a newcomer needs: links, the console login, where everything else went."""
    email, password = login
    lines = ["Open a tracking page and watch it change:"]
    lines += [f"  {number}: {url}" for number, url in orders]
    lines += [
        f"Find an order: {settings.base_url}/track  (number + email, e.g. ada@example.com)",
        f"Support console: {settings.base_url}/support/login",
        f"  email {email}   password {password}",
        f"Emails and SMS: {settings.instance_dir}/mail.log and sms.log",
        f"Portal log: {logs[0]}   requests: {logs[1]}",
    ]
    return "\n".join(lines)


def step_line(order_number: str, what: str, now: datetime | None = None) -> str:
    """One short line per simulated step."""
    stamp = (now or datetime.now(UTC)).astimezone().strftime("%H:%M:%S")
    return f"  {stamp} {order_number}: {what}"
