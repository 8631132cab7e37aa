"""What `portal demo` prints: the summary block and the one-line steps (pure parts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from portal.demo_terminal import step_line, summary
from portal.settings import load_settings


def test_summary_names_links_login_and_log_files(tmp_path: Path) -> None:
    settings = replace(
        load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "s" * 40}),
        base_url="http://127.0.0.1:8000",
    )
    block = summary(
        settings,
        [("DEMO-1", "http://127.0.0.1:8000/t/abc"), ("DEMO-2", "http://127.0.0.1:8000/t/def")],
        ("agent@demo.example", "pw-123"),
        (tmp_path / "demo.log", tmp_path / "access.log"),
    )
    lines = block.splitlines()
    assert "  DEMO-1: http://127.0.0.1:8000/t/abc" in lines
    assert "Support console: http://127.0.0.1:8000/support/login" in lines
    assert "  email agent@demo.example   password pw-123" in lines
    assert str(tmp_path / "access.log") in block
    assert len(lines) <= 12


def test_step_line_is_short() -> None:
    line = step_line("DEMO-1402-1", "carrier: Out for delivery", datetime(2027, 3, 1, tzinfo=UTC))
    assert line.startswith("  ") and line.endswith("DEMO-1402-1: carrier: Out for delivery")
    assert len(line) < 60
