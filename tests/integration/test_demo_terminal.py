"""`portal demo` as a newcomer sees it: a readable terminal and a console login that works."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port
from tests.integration.staff_helpers import csrf_in

_LOGIN = re.compile(r"email (\S+)\s+password (\S+)")


def test_demo_prints_links_and_a_login_and_keeps_logs_off_screen(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["PORTAL_SECRET_KEY"] = "d" * 40
    cmd = [sys.executable, "-m", "portal", "demo", "--port", str(port), "--step-seconds", "0.2"]
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("The simulated orders have been delivered"):
                lines += [process.stdout.readline().rstrip("\n") for _ in range(11)]
                break
        screen = "\n".join(lines)
        assert "The simulated orders have been delivered" in screen, screen
        found = _LOGIN.findall(screen)
        assert len(found) == 2 and found[0] == found[1], screen  # printed, then again at the end
        email, password = found[0]
        assert email == "agent@demo.example"
        assert screen.count("/t/") >= 8  # four links, twice
        assert lines[-1] == "Press Ctrl+C to stop."
        assert not [x for x in lines if " INFO " in x or "HTTP Request" in x], screen
        steps = [x for x in lines if re.match(r"^  \d\d:\d\d:\d\d DEMO-", x)]
        assert len(steps) >= 10 and all(len(x) < 100 for x in steps)
        access_log = tmp_path / "instance" / "access.log"
        assert '"POST /webhooks/generic" 200' in access_log.read_text()
        assert str(access_log) in screen
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            form = client.get("/support/login")
            answer = client.post(
                "/support/login",
                data={"email": email, "password": password, "csrf_token": csrf_in(form.text)},
            )
            assert answer.status_code == 303
            assert email in client.get("/support").text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
