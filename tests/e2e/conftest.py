"""Browser tests: the real portal as a uvicorn subprocess on a free port, in Debian's Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.webhook_sender import generic_body, post_signed_sync, sign

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WEBHOOK_SECRET = "whsec_" + "ZTJlLXRlc3RzLXNlY3JldC1rZXktMDEyMzQ1Njc4OQ=="


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is a browser test (`-m "not e2e"` leaves them out)."""
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortalProcess:
    """`portal serve` in a subprocess, with an API key and helpers to drive it like a shop."""

    def __init__(
        self,
        instance: Path,
        extra_env: dict[str, str] | None = None,
        *,
        api_key: str | None = None,
        log_name: str = "server.log",
    ) -> None:
        """Migrate the instance's database and make an API key (unless ``api_key`` is given).

        ``extra_env`` overrides the defaults: e.g. ``PORTAL_REDIS_URL``, ``PORTAL_INSTANCE`` or a
        ``PORTAL_BASE_URL`` shared by several processes on one database.
        """
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PORTAL_") or k.startswith("PORTAL_TEST")
        }
        self.env.update(
            {
                "PORTAL_INSTANCE_DIR": str(instance),
                "PORTAL_SECRET_KEY": "e2e-" + "k" * 40,
                "PORTAL_BASE_URL": self.base_url,
                "PORTAL_WEBHOOK_SECRET_GENERIC": WEBHOOK_SECRET,
                "PORTAL_SHOP_NAME": "E2E Shop",
                **(extra_env or {}),
            }
        )
        self.log = instance / log_name
        instance.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: Any = None
        self.cli("migrate")
        self.api_key = api_key or self.cli("api-key", "create", "e2e").strip().splitlines()[-1]

    @property
    def origin(self) -> str:
        """The Origin browsers send for pages of this portal (from its PORTAL_BASE_URL)."""
        parts = urlsplit(self.env["PORTAL_BASE_URL"])
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "portal", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        self._log_handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portal",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"portal exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("portal did not start in 30 s")

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM (a graceful shutdown), SIGKILL after ``timeout``; the exit code, if it ran."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
        self.process = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        return code

    def restart(self) -> None:
        """Stop gracefully and start again on the same port with the same database."""
        self.stop()
        self.start()

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return httpx.request(
            method,
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10,
        )

    def create_order(self, number: str, **overrides: Any) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        body = {
            "order_number": number,
            "customer": {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "phone": "+14155552671",
                "timezone": "Europe/London",
            },
            "items": [{"sku": "MUG-1", "name": "Blue mug", "quantity": 2}],
            "promised_ship_by": (today + timedelta(days=1)).isoformat(),
            "promised_deliver_by": (today + timedelta(days=4)).isoformat(),
            **overrides,
        }
        answer = self.api("POST", "/api/v1/orders", body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def carrier_event(
        self,
        tracking: str,
        status: str,
        message: str,
        *,
        reason: str | None = None,
        eta: date | None = None,
        occurred_at: datetime | None = None,
    ) -> httpx.Response:
        body = generic_body(
            tracking,
            status,
            occurred_at or datetime.now(UTC),
            message,
            estimated_delivery=eta.isoformat() if eta else None,
            reason_code=reason,
        )
        signed = sign("generic", body, WEBHOOK_SECRET, datetime.now(UTC))
        answer = post_signed_sync(self.base_url, "generic", body, signed)
        assert answer.status_code in (200, 202), answer.text
        return answer


@pytest.fixture
def portal_server(tmp_path: Path) -> Iterator[PortalProcess]:
    server = PortalProcess(tmp_path / "instance")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
