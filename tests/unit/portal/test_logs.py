from __future__ import annotations

import logging

import pytest

from portal.logs import RedactTokens, install_redaction, redact


def test_redact_paths_and_urls() -> None:
    assert redact("/t/EqC6D4TO-KTUmuL9BUC9dw4i-WU1eZDr/ws") == "/t/<token>/ws"
    assert redact("https://x.example/t/abcdefgh12345678") == "https://x.example/t/<token>"
    assert redact("/track") == "/track"


def test_filter_rewrites_uvicorn_style_records(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/t/SECRETTOKEN123456/ws")
    assert "SECRETTOKEN123456" not in caplog.text
    assert "/t/<token>/ws" in caplog.text
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1
