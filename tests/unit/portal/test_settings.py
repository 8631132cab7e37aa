from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.demo import demo_settings
from portal.settings import SettingsError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"PORTAL_INSTANCE_DIR": str(tmp_path), **values}


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'portal.db'}"
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.instance == "portal"
    assert settings.secret_key_generated
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_generated_secret_is_kept(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path)).secret_key
    assert load_settings(env(tmp_path)).secret_key == first
    assert len(first) >= 32


def test_values_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            tmp_path,
            PORTAL_DATABASE_URL="postgresql+asyncpg://u:p@db/portal",
            PORTAL_REDIS_URL="redis://cache:6379/2",
            PORTAL_SECRET_KEY="k" * 40,
            PORTAL_BASE_URL="https://track.example.com/",
            PORTAL_SMTP_URL="smtps://user:pw@mail.example.com:465",
            PORTAL_EMAIL_FROM="Shop <orders@example.com>",
            PORTAL_SMS_URL="https://SID:TOKEN@sms.example.com/send",
            PORTAL_WEBHOOK_SECRET_UPS="one, two",
            PORTAL_INSTANCE="shop-eu",
        )
    )
    assert settings.base_url == "https://track.example.com"
    assert settings.base_origin == "https://track.example.com"
    assert settings.secrets_for("ups") == ("one", "two")
    assert settings.secrets_for("fedex") == ()
    assert settings.instance == "shop-eu"
    assert not settings.secret_key_generated


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_DATABASE_URL", "mysql://x/y", "PORTAL_DATABASE_URL has the scheme 'mysql'"),
        ("PORTAL_DATABASE_URL", "postgresql://x/y", "async driver"),
        ("PORTAL_DATABASE_URL", "sqlite:///x.db", r"sqlite\+aiosqlite"),
        ("PORTAL_REDIS_URL", "http://cache", "PORTAL_REDIS_URL"),
        ("PORTAL_SMTP_URL", "imap://mail", "PORTAL_SMTP_URL"),
        ("PORTAL_BASE_URL", "track.example.com", "PORTAL_BASE_URL"),
        ("PORTAL_SMS_URL", "ftp://x", "PORTAL_SMS_URL"),
        ("PORTAL_SECRET_KEY", "short", "at least 32"),
        ("PORTAL_INSTANCE", "bad name!", "PORTAL_INSTANCE"),
        ("PORTAL_DISPATCHER", "maybe", "PORTAL_DISPATCHER must be 1 or 0"),
        ("PORTAL_AUTO_MIGRATE", "2", "PORTAL_AUTO_MIGRATE must be 1 or 0"),
        ("PORTAL_WS_CATCHUP_CONCURRENCY", "0", "between 1 and 1000"),
        ("PORTAL_WS_CATCHUP_CONCURRENCY", "many", "PORTAL_WS_CATCHUP_CONCURRENCY must be a whole"),
        ("PORTAL_WS_CATCHUP_QUEUE", "-1", "PORTAL_WS_CATCHUP_QUEUE must be between 0"),
        ("PORTAL_WS_SNAPSHOT_REUSE", "61", "PORTAL_WS_SNAPSHOT_REUSE must be between 0"),
    ],
)
def test_bad_values_are_refused_clearly(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env(tmp_path, **{name: value}))


@pytest.mark.parametrize(
    ("values", "auto_migrate", "dispatcher"),
    [
        ({}, False, True),
        ({"PORTAL_AUTO_MIGRATE": "1"}, True, True),
        ({"PORTAL_DISPATCHER": "0"}, False, False),
        ({"PORTAL_AUTO_MIGRATE": "true", "PORTAL_DISPATCHER": "no"}, True, False),
        ({"PORTAL_AUTO_MIGRATE": "0", "PORTAL_DISPATCHER": "1"}, False, True),
    ],
)
def test_server_switches_are_settings(
    tmp_path: Path, values: dict[str, str], auto_migrate: bool, dispatcher: bool
) -> None:
    settings = load_settings(env(tmp_path, **values))
    assert (settings.auto_migrate, settings.dispatcher) == (auto_migrate, dispatcher)


def test_reconnect_storm_settings(tmp_path: Path) -> None:
    defaults = load_settings(env(tmp_path))
    assert (
        defaults.ws_catchup_concurrency,
        defaults.ws_catchup_queue,
        defaults.ws_snapshot_reuse,
    ) == (16, 2000, 1.0)
    settings = load_settings(
        env(
            tmp_path,
            PORTAL_WS_CATCHUP_CONCURRENCY="4",
            PORTAL_WS_CATCHUP_QUEUE="0",
            PORTAL_WS_SNAPSHOT_REUSE="0",
        )
    )
    assert (settings.ws_catchup_concurrency, settings.ws_catchup_queue) == (4, 0)
    assert settings.ws_snapshot_reuse == 0.0


def test_the_demo_changes_its_settings_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    before = dict(os.environ)
    base = load_settings(env(tmp_path, PORTAL_DISPATCHER="0"))
    settings = demo_settings(base, "127.0.0.1", 8123)
    assert dict(os.environ) == before
    assert settings.shop_name == "Demo Shop"
    assert settings.base_url == "http://127.0.0.1:8123"
    assert settings.dispatcher
    (secret,) = settings.secrets_for("generic")
    assert secret.startswith("whsec_")
    assert (tmp_path / "demo_webhook_secret").read_text() == secret
    assert demo_settings(base, "127.0.0.1", 8123).secrets_for("generic") == (secret,)
    named = load_settings(env(tmp_path, PORTAL_SHOP_NAME="Corner shop"))
    assert demo_settings(named, "127.0.0.1", 8000).shop_name == "Corner shop"
    assert demo_settings(named, "127.0.0.1", 8000).base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 3600.0), ("60", 60.0), ("0", 0.0), ("0.5", 0.5)]
)
def test_audit_interval(tmp_path: Path, value: str | None, seconds: float) -> None:
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path)}
    if value is not None:
        env["PORTAL_AUDIT_INTERVAL"] = value
    assert load_settings(env).audit_interval == seconds


@pytest.mark.parametrize("value", ["-1", "hourly", "nan", "inf"])
def test_audit_interval_refuses(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_INTERVAL"):
        load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_AUDIT_INTERVAL": value})
